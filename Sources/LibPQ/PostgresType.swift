/// A PostgreSQL type, by its OID.
public struct PostgresType: Hashable, Sendable, CustomStringConvertible {
    /// The type's OID in `pg_type`.
    public let oid: UInt32

    /// A type by OID.
    public init(oid: UInt32) { self.oid = oid }

    public static let bool = PostgresType(oid: 16)
    public static let bytea = PostgresType(oid: 17)
    public static let name = PostgresType(oid: 19)
    public static let int8 = PostgresType(oid: 20)
    public static let int2 = PostgresType(oid: 21)
    public static let int4 = PostgresType(oid: 23)
    public static let text = PostgresType(oid: 25)
    public static let json = PostgresType(oid: 114)
    public static let float4 = PostgresType(oid: 700)
    public static let float8 = PostgresType(oid: 701)
    public static let unknown = PostgresType(oid: 705)
    public static let bpchar = PostgresType(oid: 1042)
    public static let varchar = PostgresType(oid: 1043)
    public static let date = PostgresType(oid: 1082)
    public static let timestamp = PostgresType(oid: 1114)
    public static let timestamptz = PostgresType(oid: 1184)
    public static let numeric = PostgresType(oid: 1700)
    public static let uuid = PostgresType(oid: 2950)
    public static let jsonb = PostgresType(oid: 3802)
    public static let int8Array = PostgresType(oid: 1016)
    public static let textArray = PostgresType(oid: 1009)
    public static let varcharArray = PostgresType(oid: 1015)
    public static let uuidArray = PostgresType(oid: 2951)

    private static let names: [UInt32: String] = [
        16: "bool", 17: "bytea", 19: "name", 20: "int8", 21: "int2", 23: "int4", 25: "text", 114: "json",
        700: "float4", 701: "float8", 705: "unknown", 1042: "bpchar", 1043: "varchar", 1082: "date",
        1114: "timestamp", 1184: "timestamptz", 1700: "numeric", 2950: "uuid", 3802: "jsonb", 1016: "int8[]",
        1009: "text[]", 1015: "varchar[]", 2951: "uuid[]",
    ]

    /// The type's name where this client knows it, otherwise `oid N`.
    public var description: String { Self.names[oid] ?? "oid \(oid)" }
}
