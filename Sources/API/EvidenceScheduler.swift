import Domain
import Foundation
import LibPQ
import Storage

/// The evidence scheduler (DESIGN §4.1 steps 7–8): raises at-risk and SLA alerts on live tasks and purges
/// stored content the configured time after collection. Any number of instances may run it at once: each
/// pass skips rows another instance holds, and every alert is recorded as raised in the transaction that
/// raises it.
public struct EvidenceScheduler: Sendable {
    let tasks: EvidenceStore
    let items: EvidenceItemStore
    let content: EvidenceContentStore
    let settings: EvidenceSettings

    /// A scheduler over `pool`'s database and `settings.directory`.
    public init(pool: PostgresPool, settings: EvidenceSettings) {
        tasks = EvidenceStore(pool: pool)
        items = EvidenceItemStore(pool: pool)
        content = EvidenceContentStore(directory: settings.directory)
        self.settings = settings
    }

    /// What one pass did.
    public struct Pass: Sendable, Hashable {
        /// Alerts raised (each an event).
        public var alerts: Int
        /// Items whose content was purged.
        public var purged: Int
    }

    /// One pass as of `now`, working through every batch that is due.
    public func runOnce(now: Date) async throws -> Pass {
        var pass = Pass(alerts: 0, purged: 0)
        let batch = 500
        while true {
            let raised = try await tasks.raiseAlerts(now: now, limit: batch)
            pass.alerts += raised
            if raised < batch { break }
        }
        let cutoff = now.addingTimeInterval(-settings.purgeAfter.seconds)
        while true {
            let purged = try await items.purge(collectedBefore: cutoff, limit: 100) { name in try await content.remove(name) }
            pass.purged += purged
            if purged < 100 { break }
        }
        return pass
    }
}
