import Domain
import Foundation
import Storage

/// Links audit rows into the hash chain within a quarter of a second of their commit. Safe beside other
/// instances: `audit_chain()` locks the chain's head, so one instance links at a time.
public struct AuditChainJob: Job {
    public let name = "audit-chain"
    public let interval: Duration
    private let audit: AuditStore

    /// The job over `database`.
    public init(_ database: Database, interval: Duration = .milliseconds(250)) {
        audit = AuditStore(database)
        self.interval = interval
    }

    public func run(now: Date) async throws { try await audit.chainPending() }
}

/// Deletes idempotency keys past their 24 hours. Safe beside other instances: deleting twice deletes nothing more.
public struct IdempotencyPurgeJob: Job {
    public let name = "idempotency-purge"
    public let interval: Duration
    private let keys: IdempotencyStore

    /// The job over `database`.
    public init(_ database: Database, interval: Duration = .seconds(300)) {
        keys = IdempotencyStore(database)
        self.interval = interval
    }

    public func run(now: Date) async throws { _ = try await keys.purgeExpired(now: now) }
}

/// Deletes events older than the retention period, with their deliveries and attempts. Safe beside other
/// instances: each batch deletes what it finds, and deleting twice deletes nothing more.
public struct EventRetentionJob: Job {
    public let name = "event-retention"
    public let interval: Duration
    private let queue: WebhookQueue
    private let retention: Duration

    /// The job over `database`, keeping events for `retention`.
    public init(_ database: Database, retention: Duration, interval: Duration = .seconds(60)) {
        queue = WebhookQueue(database)
        self.retention = retention
        self.interval = interval
    }

    public func run(now: Date) async throws {
        while try await queue.purge(olderThan: retention, now: now) == 10_000 {}
    }
}

/// Returns to the queue the webhook deliveries whose dispatcher stopped mid-attempt (its lease ran out), logging
/// the attempt as `lease_expired`. Safe beside other instances: it takes expired deliveries with `SKIP LOCKED`.
public struct WebhookLeaseReaperJob: Job {
    public let name = "webhook-lease-reaper"
    public let interval: Duration
    private let queue: WebhookQueue

    /// The job over `database`.
    public init(_ database: Database, interval: Duration = .seconds(5)) {
        queue = WebhookQueue(database)
        self.interval = interval
    }

    /// Reaps the leases expired at `now`; how many.
    @discardableResult
    public func reap(now: Date) async throws -> Int {
        let reaped = try await queue.reapExpiredLeases(now: now)
        if reaped > 0 { try await queue.wakeDispatchers() }
        return reaped
    }

    public func run(now: Date) async throws { try await reap(now: now) }
}
