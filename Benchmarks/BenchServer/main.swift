// The API server without authentication, authorisation or rate limiting, for `make bench` only: the baseline
// against which the real server's authenticated throughput is measured. Configured like `sightline serve` by
// SIGHTLINE_DATABASE_URL, SIGHTLINE_HTTP_PORT and SIGHTLINE_DB_POOL_SIZE; stops on SIGTERM or SIGINT.
import API
import Domain
import Foundation
import LibPQ
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Storage

_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
let environment = ProcessInfo.processInfo.environment
var logger = Logger(label: "sightline-bench-server")
logger.logLevel = .warning
let pool = PostgresPool(
    configuration: .init(
        settings: try PostgresConnectionSettings(environment["SIGHTLINE_DATABASE_URL"] ?? ""),
        maxConnections: Int(environment["SIGHTLINE_DB_POOL_SIZE"] ?? "") ?? 16
    ),
    logger: logger
)
let router = try SightlineServer.makeRouter(
    Database(pool: pool), migrator: try Migrator(logger: logger), metrics: APIMetrics(), maxBodyBytes: 1 << 20,
    rateLimit: RateLimitPolicy(perSecond: 1, burst: 1),
    evidence: EvidenceSettings(directory: environment["SIGHTLINE_EVIDENCE_DIR"] ?? ".data/bench/evidence"), authorise: false
)
let application = SightlineServer.makeApplication(
    router: router, host: "127.0.0.1", port: Int(environment["SIGHTLINE_HTTP_PORT"] ?? "") ?? 18081, logger: logger
)
try await ServiceGroup(
    configuration: .init(
        services: [.init(service: pool), .init(service: application)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
).run()
