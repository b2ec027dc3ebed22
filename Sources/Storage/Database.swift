import Domain
import LibPQ
import Logging

/// The database as every layer above Storage sees it: a pool of connections and the clock every store reads.
/// Above Storage nothing names a connection or a libpq error: stores borrow connections through this, and a
/// database failure leaves Storage as a `StorageError`.
public struct Database: Sendable {
    let pool: PostgresPool
    /// Where every store reads "now".
    public let clock: any WallClock

    /// The database behind `pool`, read with `clock`.
    public init(pool: PostgresPool, clock: any WallClock = SystemClock()) {
        self.pool = pool
        self.clock = clock
    }

    /// The pool's connections now, for the metrics.
    public var statistics: PoolStatistics {
        let statistics = pool.statistics
        return PoolStatistics(idle: statistics.idle, inUse: statistics.inUse, waiting: statistics.waiting, max: statistics.max)
    }

    /// Lends a connection to `body`; a database failure comes out as a `StorageError`.
    @discardableResult
    func withConnection<T>(isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await pool.withConnection(body)
        } catch let error as PostgresError {
            throw StorageError(error)
        }
    }

    /// Runs `body` in a transaction that commits when it returns and rolls back when it throws; a database
    /// failure comes out as a `StorageError`.
    @discardableResult
    func withTransaction<T>(isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await pool.withTransaction(.readCommitted, body)
        } catch let error as PostgresError {
            throw StorageError(error)
        }
    }

    /// A listener for notifications on `channel` over a connection of its own (see `NotificationListener`).
    public func listener(channel: String, logger: Logger) throws -> NotificationListener {
        do {
            return NotificationListener(try PostgresListener(settings: pool.settings, channels: [channel], logger: logger))
        } catch let error as PostgresError {
            throw StorageError(error)
        }
    }
}

/// A pool's connections at one moment.
public struct PoolStatistics: Sendable, Equatable {
    /// Open connections waiting to be lent.
    public var idle: Int
    /// Connections lent out.
    public var inUse: Int
    /// Borrowers waiting for a connection.
    public var waiting: Int
    /// The pool's limit.
    public var max: Int
}

/// A database failure, as the layers above Storage may act on it. Its description is safe to show: it never
/// carries SQL, parameters or the connection string.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it was.
    public enum Kind: Sendable, Hashable {
        /// The database could not be reached, or no connection came in time: try again later.
        case unavailable
        /// Text the database cannot store (a NUL character): the client's input is at fault.
        case unstorableText
        /// Anything else: a bug or an operator's problem.
        case other
    }

    /// What kind of failure it was.
    public let kind: Kind
    private let underlying: PostgresError

    init(_ error: PostgresError) {
        underlying = error
        kind = error.isUnavailable ? .unavailable : error.isUnstorableText ? .unstorableText : .other
    }

    public var description: String { underlying.description }
}

/// Notifications on one channel, on a connection of its own that reconnects when it breaks. Run it as a
/// `Service`, and read `wakeUps`: one for each notification, and one each time it (re)connects, since
/// anything sent while it was away was missed.
public final class NotificationListener: Sendable {
    private let listener: PostgresListener
    /// A value for each notification and each (re)connection.
    public let wakeUps: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init(_ listener: PostgresListener) {
        self.listener = listener
        (wakeUps, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Listens until cancelled, passing every event on as a wake-up.
    public func run() async throws {
        defer { continuation.finish() }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { [listener] in try await listener.run() }
            for await _ in listener.events { continuation.yield() }
        }
    }
}
