import Domain
import Foundation
import Storage

/// Builds the nightly partner reports (DESIGN §4.4): once the schedule's time has passed, every organisation's
/// report of the London day before, and of each earlier night within the catch-up window that was missed.
///
/// Safe beside other instances: a night is built under an advisory lock by whichever instance takes it, inside one
/// snapshot; the night is then recorded in `job_runs`, and the reports are unique per organisation, kind and date,
/// so a night is built and announced once whoever races for it.
public struct NightlyReportsJob: Job {
    public let name = "nightly-reports"
    /// How often it looks whether a night fell due: a night's reports come within this of its time.
    public let interval: Duration
    private let reports: ReportStore
    private let queue: WebhookQueue
    private let schedule: ReportSchedule
    private let sla: EvidenceSLA

    /// The job over `database`, on `schedule`, measuring against the deadlines of `sla`.
    public init(_ database: Database, schedule: ReportSchedule, sla: EvidenceSLA, interval: Duration = .seconds(60)) {
        reports = ReportStore(database)
        queue = WebhookQueue(database)
        self.schedule = schedule
        self.sla = sla
        self.interval = interval
    }

    /// Builds every night due at `now` and not yet built, oldest first, then wakes the webhook dispatchers for the
    /// `report.ready` events; the reports it stored.
    @discardableResult
    public func build(now: Date) async throws -> [StoredReport] {
        var created: [StoredReport] = []
        for day in schedule.dueDays(at: now) where !(try await reports.isBuilt(day)) {
            // nil: another instance holds the lock (it is building this night) or finished it meanwhile.
            guard let build = try await reports.build(day: day, schedule: schedule, sla: sla, recordRun: true) else { continue }
            created += build.created
        }
        if !created.isEmpty { try await queue.wakeDispatchers() }
        return created
    }

    public func run(now: Date) async throws { try await build(now: now) }
}
