import Domain
import Logging
import ServiceLifecycle
import Storage

/// Every periodic job, in one place.
public enum Jobs {
    /// The jobs every worker runs.
    public static func all(_ database: Database, evidence: EvidenceSettings, eventRetention: Duration, reports: ReportSchedule) -> [any Job] {
        [
            AuditChainJob(database),
            IdempotencyPurgeJob(database),
            EvidenceAlertsJob(database),
            EvidencePurgeJob(database, settings: evidence),
            EventRetentionJob(database, retention: eventRetention),
            WebhookLeaseReaperJob(database),
            NightlyReportsJob(database, schedule: reports, sla: evidence.sla),
        ]
    }

    /// A runner for each of `jobs`, their metrics registered at zero.
    public static func runners(_ jobs: [any Job], clock: any WallClock, metrics: JobMetrics, logger: Logger) -> [JobRunner] {
        metrics.register(jobs.map(\.name))
        return jobs.map { JobRunner($0, clock: clock, metrics: metrics, logger: logger) }
    }
}
