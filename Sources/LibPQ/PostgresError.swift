/// An error from PostgreSQL or from this client.
///
/// `description` is safe to show and to log: it carries the SQLSTATE and the names of the objects involved,
/// never the SQL text, a parameter value or a password. The server's own message can quote values (for
/// example `invalid input syntax for type uuid: "…"`), so it is deliberately not kept.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String {
            case connectionFailed = "connection failed"
            case connectionLost = "connection lost"
            case server = "server error"
            case decoding = "decoding failed"
            case poolTimeout = "timed out waiting for a connection"
            case poolClosed = "pool closed"
            case invalidConfiguration = "invalid configuration"
            case invalidParameter = "invalid parameter"
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// A connection could not be opened.
        public static let connectionFailed = Code(.connectionFailed)
        /// An open connection broke (the server restarted, the network failed).
        public static let connectionLost = Code(.connectionLost)
        /// The server refused a statement; `sqlState` says why.
        public static let server = Code(.server)
        /// A result column could not be decoded into the Swift type asked for.
        public static let decoding = Code(.decoding)
        /// The pool had no connection to lend within its acquire timeout.
        public static let poolTimeout = Code(.poolTimeout)
        /// The pool was shut down.
        public static let poolClosed = Code(.poolClosed)
        /// The connection string or a pool setting is invalid.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// A parameter cannot be sent as it is: text holding the NUL character, which PostgreSQL text cannot
        /// store and libpq would silently cut short. SQLSTATE 22021, as the server reports it.
        public static let invalidParameter = Code(.invalidParameter)

        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public let code: Code
    /// The five-character SQLSTATE the server reported, if any.
    public let sqlState: String?
    /// The constraint the statement violated, if the server named one.
    public let constraint: String?
    /// The table involved, if the server named one.
    public let table: String?
    /// The column involved, if the server named one.
    public let column: String?
    /// A safe explanation: never SQL text, parameter values or secrets.
    let reason: String?

    init(
        _ code: Code, sqlState: String? = nil, constraint: String? = nil, table: String? = nil, column: String? = nil,
        reason: String? = nil
    ) {
        self.code = code
        self.sqlState = sqlState
        self.constraint = constraint
        self.table = table
        self.column = column
        self.reason = reason
    }

    /// Whether a value the caller supplied is text PostgreSQL cannot store (the NUL character): bad input, not
    /// a fault of the statement.
    public var isUnstorableText: Bool { sqlState == "22021" }

    /// Whether retrying the whole transaction may succeed (serialization failure or deadlock).
    public var isTransient: Bool { sqlState == "40001" || sqlState == "40P01" }

    /// Whether the failure is about reaching the database rather than about the statement: the caller should
    /// answer "service unavailable" and may retry later.
    public var isUnavailable: Bool {
        if code == .connectionFailed || code == .connectionLost || code == .poolTimeout || code == .poolClosed {
            return true
        }
        guard let sqlState else { return false }
        // Class 08 is connection exceptions; 57P01–57P03 are shutdowns and "cannot connect now".
        return sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState)
    }

    public var description: String {
        var text = "PostgreSQL: \(code)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let constraint { text += ", constraint \(constraint)" }
        if let table { text += ", table \(table)" }
        if let column { text += ", column \(column)" }
        if let reason { text += ": \(reason)" }
        return text
    }

    public var debugDescription: String { description }
}
