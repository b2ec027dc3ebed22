import CLibPQ
import Foundation
import NIOPosix

/// One connection to PostgreSQL, lent by `PostgresPool` to one borrower at a time.
///
/// Every call blocks inside libpq, so each runs on the pool's dedicated thread pool, never on the caller's
/// executor or an event loop. The connection is not safe for concurrent use: the pool guarantees a single
/// borrower, and that borrower must await each call before making the next.
public final class PostgresConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private let threadPool: NIOThreadPool
    /// Set when libpq reports the connection is no longer usable; the pool then discards it.
    private(set) var isBroken = false

    private init(handle: OpaquePointer, threadPool: NIOThreadPool) {
        self.handle = handle
        self.threadPool = threadPool
    }

    deinit { PQfinish(handle) }

    /// Opens a connection, blocking the calling thread; `connectionString` is a URL or a `key=value` string.
    static func connect(_ settings: PostgresConnectionSettings, threadPool: NIOThreadPool) throws -> PostgresConnection {
        let keywords = settings.keywords
        let values = settings.values
        let handle: OpaquePointer? = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let handle else { throw PostgresError(.connectionFailed, reason: "out of memory") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = settings.redact(String(cString: PQerrorMessage(handle)))
            PQfinish(handle)
            throw PostgresError(.connectionFailed, reason: message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // libpq prints NOTICE and WARNING messages to standard error by default; a server must not.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        return PostgresConnection(handle: handle, threadPool: threadPool)
    }

    /// Runs one statement with its parameters bound as `$1`, `$2` …, returning its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: (any PostgresEncodable)?...) async throws -> PostgresRows {
        try await query(sql, parameters: parameters)
    }

    /// Runs one statement with a list of parameters bound as `$1`, `$2` …, returning its rows.
    @discardableResult
    public func query(_ sql: String, parameters: [(any PostgresEncodable)?]) async throws -> PostgresRows {
        let bound = parameters.map { $0?.postgresParameter ?? .null() }
        // libpq reads a text parameter up to its first NUL, so such a value would arrive cut short, silently.
        if let index = bound.firstIndex(where: { $0.format == .text && $0.bytes?.contains(0) == true }) {
            throw PostgresError(
                .invalidParameter, sqlState: "22021", reason: "parameter $" + String(index + 1) + " holds the NUL character, which text cannot store"
            )
        }
        return try await threadPool.runIfActive { try self.execute(sql, bound) }
    }

    /// Runs a script of several statements that takes no parameters, such as a migration, in one round trip.
    public func runScript(_ sql: String) async throws {
        try await threadPool.runIfActive {
            let result = PQexec(self.handle, sql)
            try self.check(result)
        }
    }

    /// Whether the connection is still usable, judged without a round trip: a server that restarted or
    /// closed the connection has left an error or end-of-file to read on the socket.
    func isHealthy() -> Bool {
        guard !isBroken, PQstatus(handle) == CONNECTION_OK else { return false }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        // A server that shut down sent a FATAL message and then closed: keep reading until the socket is quiet
        // (a harmless notice) or libpq meets the end of the stream (a dead connection).
        while poll(&descriptor, 1, 0) > 0 {
            if PQconsumeInput(handle) == 0 || PQstatus(handle) != CONNECTION_OK {
                isBroken = true
                return false
            }
            // Anything else the server sent unprompted (a notice, a notification) is of no use here.
            while let notification = PQnotifies(handle) { PQfreemem(notification) }
        }
        return PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    // MARK: Blocking internals, called only on the thread pool.

    private func execute(_ sql: String, _ parameters: [PostgresParameter]) throws -> PostgresRows {
        let types = parameters.map { Oid($0.type.oid) }
        let formats = parameters.map { $0.format.rawValue }
        let lengths = parameters.map { Int32($0.bytes?.count ?? 0) }
        let result = withParameterPointers(parameters.map(\.bytes)) { values in
            PQexecParams(handle, sql, Int32(parameters.count), types, values, lengths, formats, 1)
        }
        return PostgresRows(try check(result))
    }

    @discardableResult
    private func check(_ result: OpaquePointer?) throws -> ResultHandle {
        guard let result else {
            markBrokenIfNeeded()
            throw PostgresError(isBroken ? .connectionLost : .server, reason: "no result from the server")
        }
        let handle = ResultHandle(result)
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return handle
        default:
            markBrokenIfNeeded()
            func field(_ code: Character) -> String? {
                guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
                return String(cString: value)
            }
            let sqlState = field("C")
            throw PostgresError(
                isBroken ? .connectionLost : .server,
                sqlState: sqlState,
                constraint: field("n"),
                table: field("t"),
                column: field("c"),
                reason: sqlState.map(SQLState.conditionName)
            )
        }
    }

    private func markBrokenIfNeeded() {
        if PQstatus(handle) != CONNECTION_OK { isBroken = true }
    }

    // MARK: Notifications, for `PostgresListener`.

    /// The connection's socket, for waiting on it.
    var socket: Int32 { PQsocket(handle) }

    /// Reads what the server sent and returns the notifications that arrived; throws if the connection broke.
    func consumeNotifications() throws -> [PostgresNotification] {
        guard PQconsumeInput(handle) == 1 else {
            isBroken = true
            throw PostgresError(.connectionLost, reason: "the notification connection closed")
        }
        var notifications: [PostgresNotification] = []
        while let pointer = PQnotifies(handle) {
            let notify = pointer.pointee
            notifications.append(
                PostgresNotification(
                    channel: String(cString: notify.relname),
                    payload: String(cString: notify.extra),
                    processID: notify.be_pid
                )
            )
            PQfreemem(pointer)
        }
        return notifications
    }
}

/// A notification received through LISTEN.
public struct PostgresNotification: Sendable, Hashable {
    /// The channel it was sent on.
    public let channel: String
    /// The payload given to NOTIFY or `pg_notify`.
    public let payload: String
    /// The server process that sent it.
    public let processID: Int32
}

/// Calls `body` with a NULL-terminated array of C strings that lives only for the call.
private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { for copy in copies { free(copy) } }
    let pointers = copies.map { UnsafePointer<CChar>($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Calls `body` with one pointer per parameter (NULL for SQL NULL) that lives only for the call.
///
/// Each buffer ends with a NUL byte: libpq reads text-format parameters up to it and ignores their lengths.
private func withParameterPointers<R>(_ values: [[UInt8]?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let buffers: [UnsafeMutablePointer<CChar>?] = values.map { bytes in
        guard let bytes else { return nil }
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress { UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: raw.count) }
        }
        buffer[bytes.count] = 0
        return buffer
    }
    defer { for buffer in buffers { buffer?.deallocate() } }
    let pointers = buffers.map { $0.map { UnsafePointer<CChar>($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
