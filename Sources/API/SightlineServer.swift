import Domain
import Hummingbird
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
import ServiceLifecycle
import Storage
import Webhooks

/// Builds the HTTP application: the router, its middleware and the generated handlers.
public enum SightlineServer {
    /// The router with every operation of `openapi.yaml` and the middleware every request passes through:
    /// request id and logging, metrics, problem responses, the body limit; then, per operation,
    /// authentication and the role × operation table.
    public static func makeRouter(
        _ database: Database,
        migrator: Migrator,
        metrics: APIMetrics,
        maxBodyBytes: Int,
        rateLimit: RateLimitPolicy,
        authFailureLimit: RateLimitPolicy = .failedAuthentication,
        evidence: EvidenceSettings,
        webhooks: WebhookSettings = WebhookSettings()
    ) throws -> Router<SightlineRequestContext> {
        try makeRouter(
            database, migrator: migrator, metrics: metrics, maxBodyBytes: maxBodyBytes, rateLimit: rateLimit, authFailureLimit: authFailureLimit,
            evidence: evidence, webhooks: webhooks, authorise: true
        )
    }

    /// The router, optionally without authentication, authorisation and rate limiting: only for the benchmark
    /// that measures what they cost (`Benchmarks/BenchServer`). Operations that need a caller fail without one.
    package static func makeRouter(
        _ database: Database,
        migrator: Migrator,
        metrics: APIMetrics,
        maxBodyBytes: Int,
        rateLimit: RateLimitPolicy,
        authFailureLimit: RateLimitPolicy = .failedAuthentication,
        evidence: EvidenceSettings,
        webhooks: WebhookSettings = WebhookSettings(),
        authorise: Bool
    ) throws -> Router<SightlineRequestContext> {
        let router = Router(context: SightlineRequestContext.self)
        let routes = RouteTable()
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: ProblemMiddleware(routes: routes))
        router.add(middleware: ExpectContinueMiddleware())
        router.add(middleware: BodyLimitMiddleware(maxBytes: maxBodyBytes))
        let apiKeys = APIKeyStore(database)
        let authenticator = Authenticator(store: apiKeys, clock: database.clock)
        let auditor = Auditor(store: AuditStore(database))
        let api = SightlineAPI(
            database: database,
            health: DatabaseHealth(database, migrator: migrator),
            metrics: metrics,
            organisations: OrganisationStore(database),
            apiKeys: apiKeys,
            controlRooms: ControlRoomStore(database),
            cameras: CameraStore(database),
            embeddings: EmbeddingArrangementStore(database),
            events: EventStore(database),
            evidence: EvidenceStore(database),
            evidenceItems: EvidenceItemStore(database),
            content: EvidenceContentStore(directory: evidence.directory),
            evidenceSettings: evidence,
            proposals: ProposalStore(database),
            analytics: AnalyticsStore(database),
            reports: ReportStore(database),
            webhooks: WebhookStore(database),
            webhookSettings: webhooks,
            authenticator: authenticator,
            auditor: auditor
        )
        // Compact JSON: the runtime's default pretty-prints, which costs bytes and time on every response.
        try api.registerHandlers(
            on: RecordingTransport(router: router, table: routes),
            configuration: Configuration(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]),
            middlewares: (authorise
                ? [
                    AuthorisationMiddleware(
                        authenticator: authenticator, rateLimiter: RateLimiter(policy: rateLimit, name: "per-key"),
                        failureLimiter: RateLimiter(policy: authFailureLimit, name: "failed-authentication"), auditor: auditor)
                ]
                : []) + [
                    IdempotencyMiddleware(store: IdempotencyStore(database)), WebhookNudgeMiddleware(nudge: WebhookNudge(database)),
                    EntityTagMiddleware(), GeoJSONExportMiddleware(), ReportFormatMiddleware(),
                ]
        )
        return router
    }

    /// The application serving `router` on the configured address. It is a `Service`: run it in a
    /// `ServiceGroup`, whose graceful shutdown lets requests in flight finish.
    public static func makeApplication(
        router: Router<SightlineRequestContext>,
        host: String,
        port: Int,
        logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()])),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }
}

/// Holds `serve` until the database's schema is the one this build expects.
///
/// While the database cannot be reached it retries with back-off (the server meanwhile answers `/readyz` with
/// 503); a schema that is behind, modified or ahead is an error, which stops the service group and the process.
public struct SchemaGate: Service {
    private let database: Database
    private let migrator: Migrator
    private let logger: Logger

    /// A gate that checks `database` against `migrator`.
    public init(_ database: Database, migrator: Migrator, logger: Logger) {
        self.database = database
        self.migrator = migrator
        self.logger = logger
    }

    /// Checks once: `true` when the schema is current, `false` when the database cannot be reached; throws when
    /// the schema is wrong.
    public func checkOnce() async throws -> Bool {
        do {
            let status = try await migrator.status(database)
            guard status == .current else { throw MigrationError("the database schema is not usable: \(status.explanation)") }
            return true
        } catch let error as StorageError where error.kind == .unavailable {
            return false
        }
    }

    /// Waits for the database with back-off (1 s doubling to 30 s), then returns or throws as `checkOnce` does.
    public func run() async throws {
        var delay = Duration.seconds(1)
        while try await !checkOnce() {
            logger.warning("database unreachable; retrying", metadata: ["retry_in_s": "\(delay.components.seconds)"])
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(30))
        }
        logger.info("database schema is current")
        // Returning would end the service group; stay until it shuts down.
        try? await gracefulShutdown()
    }
}
