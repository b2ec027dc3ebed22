import CLibPQ

/// Owns one `PGresult` and clears it exactly once.
final class ResultHandle: @unchecked Sendable {
    // Immutable after creation and only read, so sharing between threads is safe.
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { PQclear(pointer) }
}

/// The rows a query returned, decoded on demand from PostgreSQL's binary format.
public struct PostgresRows: Sendable, RandomAccessCollection {
    let result: ResultHandle
    /// The number of rows.
    public let count: Int
    /// The result's column names, in order.
    public let columns: [String]
    /// For INSERT, UPDATE, DELETE and the like, how many rows the statement touched.
    public let affectedRows: Int

    init(_ result: ResultHandle) {
        self.result = result
        count = Int(PQntuples(result.pointer))
        columns = (0..<PQnfields(result.pointer)).map { String(cString: PQfname(result.pointer, $0)) }
        affectedRows = Int(String(cString: PQcmdTuples(result.pointer))) ?? 0
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }

    /// The first row, if there is one.
    public var first: PostgresRow? { isEmpty ? nil : self[0] }
}

/// One row of a result. Columns are read by position, as the SELECT lists them.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    /// Decodes column `column` (0-based) as `T`. A failure names the column, its index and both types.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
        let pointer = rows.result.pointer
        guard column >= 0, column < rows.columns.count else {
            throw PostgresError(.decoding, reason: "column \(column) does not exist; the row has \(rows.columns.count)")
        }
        let row = Int32(index)
        let field = Int32(column)
        let postgresType = PostgresType(oid: PQftype(pointer, field))
        do {
            if PQgetisnull(pointer, row, field) == 1 {
                return try T.decodeNull(type: postgresType)
            }
            let length = Int(PQgetlength(pointer, row, field))
            let bytes = UnsafeRawBufferPointer(start: PQgetvalue(pointer, row, field), count: length)
            return try T.decode(bytes, type: postgresType)
        } catch {
            let name = rows.columns[column]
            let problem: String
            switch error {
            case .typeMismatch: problem = "cannot decode PostgreSQL \(postgresType) as Swift \(T.self)"
            case .unexpectedNull: problem = "NULL cannot be decoded as Swift \(T.self) (PostgreSQL \(postgresType))"
            case .malformed(let why): problem = "malformed \(postgresType) for Swift \(T.self): \(why)"
            }
            throw PostgresError(.decoding, column: name, reason: "column \(column) \"\(name)\": \(problem)")
        }
    }
}
