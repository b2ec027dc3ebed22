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
            var command = try parseAsRoot()
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
        subcommands: [Serve.self, Worker.self, Migrate.self, Keys.self, Audit.self, Seed.self],
        defaultSubcommand: Serve.self
    )
}

/// The settings every command shares; each flag overrides its `SIGHTLINE_…` environment variable.
struct SettingsOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "PostgreSQL URL (SIGHTLINE_DATABASE_URL or SIGHTLINE_DATABASE_URL_FILE).")
    var databaseURL: String?
    @Option(name: .customLong("http-host"), help: "Address to listen on (SIGHTLINE_HTTP_HOST, default 127.0.0.1).")
    var httpHost: String?
    @Option(name: .customLong("http-port"), help: "Port to listen on (SIGHTLINE_HTTP_PORT, default 8080).")
    var httpPort: String?
    @Option(name: .customLong("log-level"), help: "Log level (SIGHTLINE_LOG_LEVEL, default info).")
    var logLevel: String?
    @Option(name: .customLong("log-format"), help: "json or text (SIGHTLINE_LOG_FORMAT, default json).")
    var logFormat: String?
    @Option(name: .customLong("db-pool-size"), help: "Most database connections (SIGHTLINE_DB_POOL_SIZE, default 10).")
    var dbPoolSize: String?
    @Option(name: .customLong("db-acquire-timeout"), help: "Seconds to wait for a connection (SIGHTLINE_DB_ACQUIRE_TIMEOUT, default 5).")
    var dbAcquireTimeout: String?
    @Option(name: .customLong("max-body-bytes"), help: "Largest JSON body (SIGHTLINE_MAX_BODY_BYTES, default 1048576).")
    var maxBodyBytes: String?
    @Option(name: .customLong("rate-limit-per-second"), help: "Sustained requests per key (SIGHTLINE_RATE_LIMIT_PER_SECOND, default 50).")
    var rateLimitPerSecond: String?
    @Option(name: .customLong("rate-limit-burst"), help: "Requests per key at once (SIGHTLINE_RATE_LIMIT_BURST, default 200).")
    var rateLimitBurst: String?
    @Option(name: .customLong("evidence-dir"), help: "Directory for uploaded evidence (SIGHTLINE_EVIDENCE_DIR, default .data/evidence).")
    var evidenceDir: String?
    @Option(name: .customLong("evidence-purge-days"), help: "Days after collection that content is purged (SIGHTLINE_EVIDENCE_PURGE_DAYS, default 30).")
    var evidencePurgeDays: String?
    @Option(name: .customLong("sla-urgent-ack-minutes"), help: "Minutes to acknowledge an urgent task (SIGHTLINE_SLA_URGENT_ACK_MINUTES, default 60).")
    var slaUrgentAckMinutes: String?
    @Option(name: .customLong("sla-urgent-export-minutes"), help: "Minutes to export an urgent task (SIGHTLINE_SLA_URGENT_EXPORT_MINUTES, default 1440).")
    var slaUrgentExportMinutes: String?
    @Option(name: .customLong("sla-standard-ack-minutes"), help: "Minutes to acknowledge a standard task (SIGHTLINE_SLA_STANDARD_ACK_MINUTES, default 1440).")
    var slaStandardAckMinutes: String?
    @Option(name: .customLong("sla-standard-export-minutes"), help: "Minutes to export a standard task (SIGHTLINE_SLA_STANDARD_EXPORT_MINUTES, default 10080).")
    var slaStandardExportMinutes: String?

    /// The validated configuration, with logging set up to match it.
    func resolve() throws -> ServerConfiguration {
        let flags = [
            "DATABASE_URL": databaseURL, "HTTP_HOST": httpHost, "HTTP_PORT": httpPort, "LOG_LEVEL": logLevel,
            "LOG_FORMAT": logFormat, "DB_POOL_SIZE": dbPoolSize, "DB_ACQUIRE_TIMEOUT": dbAcquireTimeout,
            "MAX_BODY_BYTES": maxBodyBytes, "RATE_LIMIT_PER_SECOND": rateLimitPerSecond, "RATE_LIMIT_BURST": rateLimitBurst,
            "EVIDENCE_DIR": evidenceDir, "EVIDENCE_PURGE_DAYS": evidencePurgeDays, "SLA_URGENT_ACK_MINUTES": slaUrgentAckMinutes,
            "SLA_URGENT_EXPORT_MINUTES": slaUrgentExportMinutes, "SLA_STANDARD_ACK_MINUTES": slaStandardAckMinutes,
            "SLA_STANDARD_EXPORT_MINUTES": slaStandardExportMinutes,
        ].compactMapValues { $0 }
        let configuration: ServerConfiguration
        do {
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
    static let configuration = CommandConfiguration(abstract: "Serve the HTTP API and run the workers until SIGTERM or SIGINT.")

    @OptionGroup var settings: SettingsOptions

    @Option(help: "What this process runs: api (the HTTP API), worker (jobs and webhook dispatch) or all.")
    var role: ProcessRole = .all

    func run() async throws { try await serve(settings: settings, role: role) }
}

/// `sightline worker`: the periodic jobs and the webhook dispatcher, with only the operational endpoints served.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the jobs and the webhook dispatcher until SIGTERM or SIGINT (serve --role worker).")

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
            rateLimit: configuration.rateLimit, evidence: configuration.evidence, webhooks: configuration.webhooks
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
        let jobs = Jobs.all(database, evidence: configuration.evidence, eventRetention: configuration.webhooks.retention)
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
        let configuration = try resolve()
        let pool = try makePool(configuration, logger: Logger(label: "sightline"))
        do {
            try await body(Database(pool: pool))
            await pool.close()
        } catch {
            await pool.close()
            throw error
        }
    }
}
