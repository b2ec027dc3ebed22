import Foundation
import Logging
import ServiceLifecycle
import Storage
import LibPQ
import Webhooks

/// Background work that runs every `interval` while the server runs, and once more at shutdown so that nothing
/// queued before shutdown waits for the next start. A failure is logged once (and its recovery), and retried
/// no sooner than every five seconds.
public struct PeriodicTask: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    let work: @Sendable () async throws -> Void

    /// A task running `work` every `interval`.
    public init(name: String, every interval: Duration, logger: Logger, work: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.interval = interval
        self.logger = logger
        self.work = work
    }

    public func run() async throws {
        var failing = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await work()
                if failing { logger.info("background task recovered", metadata: ["task": "\(name)"]) }
                failing = false
            } catch {
                if !failing { logger.warning("background task failed; retrying", metadata: ["task": "\(name)", "error": "\(error)"]) }
                failing = true
            }
            let pause = failing ? max(interval, .seconds(5)) : interval
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            } catch {
                break
            }
        }
        do { try await work() } catch { logger.warning("background task failed at shutdown", metadata: ["task": "\(name)", "error": "\(error)"]) }
    }
}

extension SightlineServer {
    /// The background work every server instance runs; several instances may run it at once.
    public static func makeWorkers(
        pool: PostgresPool, evidence: EvidenceSettings, webhooks: WebhookSettings, metrics: APIMetrics, logger: Logger
    ) -> [any Service] {
        let audit = AuditStore(pool: pool)
        let idempotency = IdempotencyStore(pool: pool)
        let scheduler = EvidenceScheduler(pool: pool, settings: evidence)
        let nudge = WebhookNudge(pool: pool)
        return [
            // Audit rows join the hash chain within a quarter of a second of their commit.
            PeriodicTask(name: "audit-chain", every: .milliseconds(250), logger: logger) { try await audit.chainPending() },
            PeriodicTask(name: "idempotency-purge", every: .seconds(300), logger: logger) { try await idempotency.purgeExpired() },
            // Alerts are raised within half a minute of falling due; the shortest is two hours' notice.
            PeriodicTask(name: "evidence-scheduler", every: .seconds(30), logger: logger) {
                let pass = try await scheduler.runOnce(now: Date())
                if pass.alerts > 0 { nudge.eventsWritten() }
            },
            WebhookDispatcher(pool: pool, settings: webhooks, metrics: WebhookMetrics(registry: metrics.registry), logger: logger),
        ]
    }
}
