import Domain
import LibPQ
import Logging
import ServiceLifecycle

/// Every periodic job, in one place.
public enum Jobs {
    /// The jobs every worker runs.
    public static func all(pool: PostgresPool, clock: any WallClock, evidence: EvidenceSettings, eventRetention: Duration) -> [any Job] {
        [
            AuditChainJob(pool: pool),
            IdempotencyPurgeJob(pool: pool, clock: clock),
            EvidenceAlertsJob(pool: pool, clock: clock),
            EvidencePurgeJob(pool: pool, clock: clock, settings: evidence),
            EventRetentionJob(pool: pool, clock: clock, retention: eventRetention),
            WebhookLeaseReaperJob(pool: pool, clock: clock),
        ]
    }

    /// A runner for each of `jobs`, their metrics registered at zero.
    public static func runners(_ jobs: [any Job], clock: any WallClock, metrics: JobMetrics, logger: Logger) -> [JobRunner] {
        metrics.register(jobs.map(\.name))
        return jobs.map { JobRunner($0, clock: clock, metrics: metrics, logger: logger) }
    }
}
