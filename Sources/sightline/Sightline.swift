import API
import ArgumentParser
import Domain
import Foundation
import Jobs
import LibPQ
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Storage
import Webhooks

/// The `sightline` command.
@main
struct Sightline: AsyncParsableCommand {
    /// Runs Swift concurrency on NIO's event loops, so a request's handler and its socket share a thread
    /// instead of hopping between two thread pools. It must happen before any task starts, hence here. Blocking
    /// work (libpq) stays on the pool's own threads, never on these.
    static func main() async {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        do {
            // The settings' flags are the table's, not declared option by option: take them out first.
            let arguments: [String]
            do {
                arguments = try ServerConfiguration.takeFlags(from: Array(CommandLine.arguments.dropFirst())).rest
            } catch {
                throw CommandFailure(description: "\(error)")
            }
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        abstract: "Sightline: the coordination service for public-space CCTV across London.",
        discussion: ServerConfiguration.helpText,
        subcommands: [Serve.self, Worker.self, Settings.self, Migrate.self, Keys.self, Audit.self, Seed.self, Reports.self],
        defaultSubcommand: Serve.self
    )
}

/// The settings every command shares. Their flags, one for each row of `ServerConfiguration.settings`, are taken
/// from the command line before the commands parse it (see `Sightline.main`), so this declares none itself.
struct SettingsOptions: ParsableArguments {
    /// The validated configuration, with logging set up to match it.
    func resolve() throws -> ServerConfiguration {
        let configuration: ServerConfiguration
        do {
            let flags = try ServerConfiguration.takeFlags(from: Array(CommandLine.arguments.dropFirst())).flags
            configuration = try ServerConfiguration(flags: flags, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw CommandFailure(description: "\(error)")
        }
        LoggingSystem.bootstrap { label in
            switch configuration.logFormat {
            case .json: return JSONLogHandler(label: label, level: configuration.logLevel)
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = configuration.logLevel
                return handler
            }
        }
        return configuration
    }

    /// A pool for the configured database.
    func makePool(_ configuration: ServerConfiguration, logger: Logger) throws -> PostgresPool {
        let settings = try PostgresConnectionSettings(configuration.databaseURL)
        return PostgresPool(
            configuration: .init(
                settings: settings, maxConnections: configuration.databasePoolSize, acquireTimeout: configuration.databaseAcquireTimeout
            ),
            logger: logger
        )
    }
}

/// Which services a process runs: the HTTP API, the workers (periodic jobs and the webhook dispatcher), or both.
enum ProcessRole: String, ExpressibleByArgument, CaseIterable {
    case api, worker, all

    /// Whether it serves the API (a worker serves only `/healthz`, `/readyz` and `/metrics`).
    var servesAPI: Bool { self != .worker }
    /// Whether it runs the jobs and the webhook dispatcher.
    var runsWorkers: Bool { self != .api }
}

/// `sightline serve`: the HTTP API and, unless `--role api`, the workers.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API and run the workers until SIGTERM or SIGINT.", discussion: ServerConfiguration.helpText
    )

    @OptionGroup var settings: SettingsOptions

    @Option(help: "What this process runs: api (the HTTP API), worker (jobs and webhook dispatch) or all.")
    var role: ProcessRole = .all

    func run() async throws { try await serve(settings: settings, role: role) }
}

/// `sightline worker`: the periodic jobs and the webhook dispatcher, with only the operational endpoints served.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the jobs and the webhook dispatcher until SIGTERM or SIGINT (serve --role worker).", discussion: ServerConfiguration.helpText
    )

    @OptionGroup var settings: SettingsOptions

    func run() async throws { try await serve(settings: settings, role: .worker) }
}

/// Runs the services of `role` in one service group until a signal stops it.
func serve(settings: SettingsOptions, role: ProcessRole) async throws {
    let configuration = try settings.resolve()
    let logger = Logger(label: "sightline")
    let pool = try settings.makePool(configuration, logger: logger)
    let database = Database(pool: pool, clock: SystemClock())
    let migrator = try Migrator(logger: logger)
    let gate = SchemaGate(database, migrator: migrator, logger: logger)
    // A reachable database with the wrong schema stops us before we listen; an unreachable one is waited for.
    if try await !gate.checkOnce() {
        logger.warning("database unreachable at start-up; serving and waiting for it (/readyz answers 503 meanwhile)")
    }
    let metrics = APIMetrics()
    let router =
        role.servesAPI
        ? try SightlineServer.makeRouter(
            database, migrator: migrator, metrics: metrics, maxBodyBytes: configuration.maxBodyBytes,
            rateLimit: configuration.rateLimit, authFailureLimit: configuration.authFailureLimit, evidence: configuration.evidence,
            webhooks: configuration.webhooks
        )
        : SightlineServer.makeOperationsRouter(database, migrator: migrator, metrics: metrics)
    do {
        try await EvidenceContentStore(directory: configuration.evidence.directory).prepare()
    } catch {
        throw CommandFailure(description: "SIGHTLINE_EVIDENCE_DIR: cannot create \(configuration.evidence.directory): \(error)")
    }
    let application = SightlineServer.makeApplication(
        router: router, host: configuration.httpHost, port: configuration.httpPort, logger: logger
    ) { port in
        logger.info("listening", metadata: ["address": "\(configuration.httpHost):\(port)", "role": "\(role.rawValue)"])
    }
    var workers: [any Service] = []
    if role.runsWorkers {
        let jobs = Jobs.all(
            database, evidence: configuration.evidence, eventRetention: configuration.webhooks.retention, reports: configuration.reports)
        workers = Jobs.runners(jobs, clock: database.clock, metrics: JobMetrics(registry: metrics.registry), logger: logger)
        workers.append(
            WebhookDispatcher(database, settings: configuration.webhooks, metrics: WebhookMetrics(registry: metrics.registry), logger: logger)
        )
    }
    let group = ServiceGroup(
        configuration: .init(
            // Shut down in reverse: the server drains its requests, the workers finish, then the pool closes.
            services: [.init(service: pool), .init(service: gate)] + workers.map { .init(service: $0) } + [.init(service: application)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
    )
    try await group.run()
    logger.info("stopped")
}

/// `sightline settings`: every setting, its flag, environment variable, default and meaning, as the Markdown table of
/// `docs/operations.md`.
struct Settings: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print every setting as a Markdown table (the one in docs/operations.md).")

    func run() throws { try output(ServerConfiguration.markdownTable) }
}

/// `sightline migrate`: apply the schema migrations built into this binary.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations, or report the schema's status.")

    @OptionGroup var settings: SettingsOptions

    @Flag(help: "Report how the schema compares with this build's migrations; change nothing.")
    var status = false

    func run() async throws {
        try await settings.withDatabase { database in
            let migrator = try Migrator(logger: Logger(label: "sightline"))
            if status {
                let current = try await migrator.status(database)
                guard current == .current else { throw CommandFailure(description: "schema: \(current.explanation)") }
                try output("schema: current\n")
            } else {
                let applied = try await migrator.migrate(database)
                try output(applied.isEmpty ? "schema already current\n" : "applied: \(applied.joined(separator: ", "))\n")
            }
        }
    }
}

/// A command that failed for a reason the operator can act on; printed as `Error: …`, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

/// Writes `text` to standard output (or error).
func output(_ text: String, to handle: FileHandle = .standardOutput) throws {
    try handle.write(contentsOf: Data(text.utf8))
}

extension SettingsOptions {
    /// Runs `body` with the configured database (on the system clock) and closes its pool afterwards.
    func withDatabase(_ body: (Database) async throws -> Void) async throws {
        try await withConfiguredDatabase { database, _ in try await body(database) }
    }

    /// Runs `body` with the configured database (on the system clock) and the configuration, and closes its pool
    /// afterwards.
    func withConfiguredDatabase(_ body: (Database, ServerConfiguration) async throws -> Void) async throws {
        let configuration = try resolve()
        let pool = try makePool(configuration, logger: Logger(label: "sightline"))
        do {
            try await body(Database(pool: pool), configuration)
            await pool.close()
        } catch {
            await pool.close()
            throw error
        }
    }
}
