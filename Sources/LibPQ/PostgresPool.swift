import DequeModule
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A bounded pool of PostgreSQL connections.
///
/// Borrow with `withConnection` or `withTransaction`; the closure must not keep the connection. A caller waits
/// at most `acquireTimeout` for a connection. Blocking libpq calls run on a thread pool of the pool's own, one
/// thread per connection. Connections found broken (a server restart, a network failure) are discarded and
/// replaced on demand, so the service outlives a database restart. As a `Service`, the pool closes every
/// connection on graceful shutdown; it can also be used without running it, and closed with `close()`.
public final class PostgresPool: Service, Sendable {
    /// The pool's settings.
    public struct Configuration: Sendable {
        /// Where to connect.
        public var settings: PostgresConnectionSettings
        /// The most connections open at once.
        public var maxConnections: Int
        /// How long a borrower waits for a connection before `poolTimeout`.
        public var acquireTimeout: Duration

        /// Settings with defaults of 10 connections and a 5-second acquire timeout.
        public init(settings: PostgresConnectionSettings, maxConnections: Int = 10, acquireTimeout: Duration = .seconds(5)) {
            self.settings = settings
            self.maxConnections = maxConnections
            self.acquireTimeout = acquireTimeout
        }
    }

    /// A point-in-time view of the pool, for metrics.
    public struct Statistics: Sendable, Equatable {
        /// Connections open or being opened.
        public var open: Int
        /// Open connections waiting to be lent.
        public var idle: Int
        /// Connections lent out (or being opened for a borrower).
        public var inUse: Int { open - idle }
        /// Borrowers waiting for a connection.
        public var waiting: Int
        /// The pool's limit.
        public var max: Int
    }

    /// Transaction isolation levels.
    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    private enum Lease {
        case connection(PostgresConnection)
        /// A slot counted in `open`, for the borrower to open a connection in.
        case slot
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Lease, any Error>
    }

    private struct State {
        var idle: [PostgresConnection] = []
        var open = 0
        var waiters = Deque<Waiter>()
        var nextWaiterID = 0
        var closed = false
    }

    private let configuration: Configuration
    private let threadPool: NIOThreadPool
    private let state = Mutex(State())
    private let logger: Logger

    /// A pool that opens connections only when they are first needed.
    public init(configuration: Configuration, logger: Logger) {
        precondition(configuration.maxConnections > 0, "a pool needs at least one connection")
        self.configuration = configuration
        self.logger = logger
        self.threadPool = NIOThreadPool(numberOfThreads: configuration.maxConnections)
        threadPool.start()
    }

    /// Where the pool connects to, for a connection of its own beside the pool (a `PostgresListener`).
    public var settings: PostgresConnectionSettings { configuration.settings }

    /// The pool's current figures.
    public var statistics: Statistics {
        state.withLock { Statistics(open: $0.open, idle: $0.idle.count, waiting: $0.waiters.count, max: configuration.maxConnections) }
    }

    /// Lends a connection to `body` and takes it back when `body` returns or throws.
    @discardableResult
    public func withConnection<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await acquire()
        do {
            let value = try await body(connection)
            release(connection)
            return value
        } catch {
            release(connection)
            throw error
        }
    }

    /// Runs `body` in a transaction that commits when it returns and rolls back when it throws.
    ///
    /// With `retryOnSerializationFailure`, a transaction that fails with a serialization failure or a deadlock
    /// (SQLSTATE 40001, 40P01) is run again, up to `maxAttempts` times in all, so `body` must be safe to repeat.
    @discardableResult
    public func withTransaction<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ level: IsolationLevel = .readCommitted,
        retryOnSerializationFailure: Bool = false,
        maxAttempts: Int = 5,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await withConnection { connection in
                    try await connection.query("BEGIN ISOLATION LEVEL " + level.rawValue)
                    do {
                        let value = try await body(connection)
                        try await connection.query("COMMIT")
                        return value
                    } catch {
                        // A broken connection has no transaction left to roll back; the pool discards it.
                        if !connection.isBroken { _ = try? await connection.query("ROLLBACK") }
                        throw error
                    }
                }
            } catch let error as PostgresError where retryOnSerializationFailure && error.isTransient && attempt < maxAttempts {
                logger.debug("retrying transaction", metadata: ["sqlstate": "\(error.sqlState ?? "")", "attempt": "\(attempt)"])
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(10 * attempt))))
            }
        }
    }

    /// Closes idle connections, fails waiting borrowers and refuses new ones; lent connections close on return.
    public func close() async {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer {
                state.open -= state.idle.count
                state.idle = []
                state.waiters = []
            }
            return (state.idle, state.waiters)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: PostgresError(.poolClosed)) }
        _ = idle  // Dropping the last reference finishes each connection.
        try? await threadPool.shutdownGracefully()
    }

    /// Waits for graceful shutdown, then closes the pool.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    // MARK: Lending

    private enum FastPath {
        case connection(PostgresConnection)
        case open
        case wait
        case closed
    }

    private func acquire() async throws -> PostgresConnection {
        while true {
            let decision: FastPath = state.withLock { state in
                if state.closed { return .closed }
                if let connection = state.idle.popLast() { return .connection(connection) }
                if state.open < configuration.maxConnections {
                    state.open += 1
                    return .open
                }
                return .wait
            }
            switch decision {
            case .closed:
                throw PostgresError(.poolClosed)
            case .connection(let connection):
                if connection.isHealthy() { return connection }
                discard(connection)
                // A server restart breaks every idle connection at once: drop them all rather than one per request.
                discardBrokenIdleConnections()
            case .open:
                return try await open()
            case .wait:
                switch try await waitForLease() {
                case .connection(let connection): return connection
                case .slot: return try await open()
                }
            }
        }
    }

    private func open() async throws -> PostgresConnection {
        do {
            let settings = configuration.settings
            let pool = threadPool
            return try await threadPool.runIfActive { try PostgresConnection.connect(settings, threadPool: pool) }
        } catch {
            releaseSlot()
            if let error = error as? PostgresError { throw error }
            throw PostgresError(.poolClosed)
        }
    }

    private func waitForLease() async throws -> Lease {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let timeout = configuration.acquireTimeout
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    self.failWaiter(id, PostgresError(.poolTimeout, reason: "no connection free within \(timeout)"))
                } catch {}  // Cancelled: the lease arrived first.
            }
            defer { group.cancelAll() }
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                    // Check again under the lock: a connection may have come back since the fast path looked.
                    let immediate: Result<Lease, any Error>? = state.withLock { state in
                        if state.closed { return .failure(PostgresError(.poolClosed)) }
                        if let connection = state.idle.popLast() { return .success(.connection(connection)) }
                        if state.open < configuration.maxConnections {
                            state.open += 1
                            return .success(.slot)
                        }
                        state.waiters.append(Waiter(id: id, continuation: continuation))
                        return nil
                    }
                    if let immediate { continuation.resume(with: immediate) }
                }
            } onCancel: {
                self.failWaiter(id, CancellationError())
            }
        }
    }

    private func failWaiter(_ id: Int, _ error: any Error) {
        let waiter: Waiter? = state.withLock { state in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }

    private func release(_ connection: PostgresConnection) {
        guard !connection.isBroken else { return discard(connection) }
        let next: Waiter? = state.withLock { state in
            if state.closed {
                state.open -= 1
                return nil
            }
            if let waiter = state.waiters.popFirst() { return waiter }
            state.idle.append(connection)
            return nil
        }
        next?.continuation.resume(returning: .connection(connection))
    }

    /// Forgets a broken connection; its slot goes to a waiter, if any, to open a fresh one.
    private func discard(_ connection: PostgresConnection) {
        logger.debug("discarding a broken database connection")
        releaseSlot()
        // The last reference to `connection` goes with this call, and its deinit calls PQfinish.
    }

    private func releaseSlot() {
        let next: Waiter? = state.withLock { state in
            if !state.closed, let waiter = state.waiters.popFirst() { return waiter }
            state.open -= 1
            return nil
        }
        next?.continuation.resume(returning: .slot)
    }

    private func discardBrokenIdleConnections() {
        let idle = state.withLock { state in
            defer { state.idle = [] }
            return state.idle
        }
        for connection in idle {
            if connection.isHealthy() { release(connection) } else { discard(connection) }
        }
    }
}
