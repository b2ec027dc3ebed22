import Domain
import Foundation
import Storage

/// Raises at-risk and SLA alerts on live evidence tasks as they fall due (DESIGN §4.1 step 7), then wakes the
/// webhook dispatchers if it raised any. Safe beside other instances: each batch claims its tasks with
/// `FOR UPDATE SKIP LOCKED`, and every alert is recorded as raised in the transaction that raises it.
public struct EvidenceAlertsJob: Job {
    public let name = "evidence-alerts"
    /// Alerts are raised within half a minute of falling due; the shortest notice is two hours.
    public let interval: Duration
    private let tasks: EvidenceStore
    private let queue: WebhookQueue

    /// The job over `database`.
    public init(_ database: Database, interval: Duration = .seconds(30)) {
        tasks = EvidenceStore(database)
        queue = WebhookQueue(database)
        self.interval = interval
    }

    /// Raises every alert due at `now`, batch after batch; how many it raised.
    @discardableResult
    public func raise(now: Date) async throws -> Int {
        let batch = 500
        var total = 0
        while true {
            let raised = try await tasks.raiseAlerts(now: now, limit: batch)
            total += raised
            if raised < batch { break }
        }
        if total > 0 { try await queue.wakeDispatchers() }
        return total
    }

    public func run(now: Date) async throws { try await raise(now: now) }
}

/// Purges stored evidence content the configured time after collection (DESIGN §4.1 step 8); the metadata, hash
/// and custody trail stay. Safe beside other instances: each batch claims its items with `FOR UPDATE SKIP LOCKED`.
public struct EvidencePurgeJob: Job {
    public let name = "evidence-purge"
    public let interval: Duration
    private let items: EvidenceItemStore
    private let content: EvidenceContentStore
    private let purgeAfter: Duration

    /// The job over `database` and `settings.directory`.
    public init(_ database: Database, settings: EvidenceSettings, interval: Duration = .seconds(300)) {
        items = EvidenceItemStore(database)
        content = EvidenceContentStore(directory: settings.directory)
        purgeAfter = settings.purgeAfter
        self.interval = interval
    }

    /// Purges what was collected more than the purge period before `now`; how many items it purged.
    @discardableResult
    public func purge(now: Date) async throws -> Int {
        let cutoff = now.addingTimeInterval(-purgeAfter.seconds)
        let batch = 100
        var total = 0
        while true {
            let purged = try await items.purge(collectedBefore: cutoff, limit: batch) { [content] name in try await content.remove(name) }
            total += purged
            if purged < batch { return total }
        }
    }

    public func run(now: Date) async throws { try await purge(now: now) }
}
