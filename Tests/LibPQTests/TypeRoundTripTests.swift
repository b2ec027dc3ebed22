import Foundation
import LibPQ
import TestSupport
import Testing

@Suite("LibPQ: parameters and results of every supported type")
struct TypeRoundTripTests {
    /// Expects `value` to come back unchanged from `SELECT $1::cast`.
    private func check<T: PostgresEncodable & PostgresDecodable & Equatable>(
        _ value: T, _ cast: String, _ pool: PostgresPool, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let back = try await roundTrip(value, cast: cast, on: pool)
        #expect(back == value, sourceLocation: sourceLocation)
    }

    /// Binds `value` as $1, selects it back and decodes it.
    private func roundTrip<T: PostgresEncodable & PostgresDecodable>(_ value: T, cast: String, on pool: PostgresPool) async throws -> T {
        try await pool.withConnection { try await $0.query("SELECT $1::\(cast)", value)[0].decode(0) }
    }

    @Test func textIntegersBooleansAndDoublesRoundTrip() async throws {
        try await TestDatabase.withFresh(migrated: false) { pool, _ in
            for text in ["", "plain", "unicode: Ünïcødé 🚓 — 監視カメラ", "quote ' and \" and \\ backslash", String(repeating: "x", count: 2_000_000)] {
                try await check(text, "text", pool)
            }
            for number in [Int.min, -1, 0, 1, Int.max] { try await check(number, "int8", pool) }
            for number in [Int32.min, 0, Int32.max] { try await check(number, "int4", pool) }
            for number in [Int16.min, 0, Int16.max] { try await check(number, "int2", pool) }
            try await check(true, "bool", pool)
            try await check(false, "bool", pool)
            for number in [0.1, -2.5e-300, 1.7976931348623157e308, Double.infinity, -Double.infinity] {
                try await check(number, "float8", pool)
            }
            let nan = try await roundTrip(Double.nan, cast: "float8", on: pool)
            #expect(nan.isNaN)
        }
    }

    @Test func numericIsExact() async throws {
        try await TestDatabase.withFresh(migrated: false) { pool, _ in
            for text in ["0", "-12.500", "123456789012345678901234567890.123456789", "0.0001", "-0.00000001", "10000", "NaN"] {
                let back = try await roundTrip(PostgresNumeric(text: text), cast: "numeric", on: pool)
                #expect(back.text == text)
            }
            let decimal = Decimal(string: "31415926535.8979323846")!
            try await check(decimal, "numeric", pool)
        }
    }

    @Test func uuidsDatesTimestampsBytesAndJSONRoundTrip() async throws {
        try await TestDatabase.withFresh(migrated: false) { pool, _ in
            let id = UUID()
            try await check(id, "uuid", pool)

            let moment = Date(timeIntervalSince1970: 1_795_000_000.123456)
            let back = try await roundTrip(moment, cast: "timestamptz", on: pool)
            #expect(abs(back.timeIntervalSince(moment)) < 0.000_001)
            let before2000 = Date(timeIntervalSince1970: -1_000_000_000.5)
            let backBefore2000 = try await roundTrip(before2000, cast: "timestamptz", on: pool)
            #expect(abs(backBefore2000.timeIntervalSince(before2000)) < 0.000_001)

            for date in [
                PostgresDate(year: 2026, month: 11, day: 21), PostgresDate(year: 1999, month: 12, day: 31),
                PostgresDate(year: 2000, month: 2, day: 29),
            ] {
                try await check(date, "date", pool)
            }

            let allBytes = Data((0...255).map(UInt8.init)) + Data(repeating: 0, count: 5_000_000)
            try await check(allBytes, "bytea", pool)

            let json = PostgresJSON(text: #"{"camera": "Ünï", "n": [1, 2, null]}"#)
            let stored = try await roundTrip(json, cast: "jsonb", on: pool)
            struct Shape: Decodable, Equatable {
                let camera: String
                let n: [Int?]
            }
            #expect(try stored.decode(Shape.self) == Shape(camera: "Ünï", n: [1, 2, nil]))
        }
    }

    @Test func arraysRoundTrip() async throws {
        try await TestDatabase.withFresh(migrated: false) { pool, _ in
            let texts = ["a", "", "with, comma", "with \"quotes\"", "back\\slash", "{braces}", "NULL", "Ünï 🚓"]
            try await check(texts, "text[]", pool)
            try await check([String](), "text[]", pool)
            let ids = [UUID(), UUID()]
            try await check(ids, "uuid[]", pool)
            try await check([1, -2, Int.max], "int8[]", pool)
            let withNull = try await pool.withConnection { try await $0.query("SELECT ARRAY['a', NULL]::text[]")[0].decode(0, as: [String?].self) }
            #expect(withNull == ["a", nil])
        }
    }

    @Test func nullDecodesAsNilForEveryType() async throws {
        try await TestDatabase.withFresh(migrated: false) { pool, _ in
            let row = try await pool.withConnection { connection in
                try await connection.query(
                    "SELECT $1::text, $2::int8, $3::bool, $4::float8, $5::numeric, $6::uuid, $7::timestamptz, $8::date, $9::bytea, $10::jsonb, $11::text[]",
                    parameters: Array(repeating: nil, count: 11)
                )[0]
            }
            #expect(try row.decode(0, as: String?.self) == nil)
            #expect(try row.decode(1, as: Int?.self) == nil)
            #expect(try row.decode(2, as: Bool?.self) == nil)
            #expect(try row.decode(3, as: Double?.self) == nil)
            #expect(try row.decode(4, as: Decimal?.self) == nil)
            #expect(try row.decode(5, as: UUID?.self) == nil)
            #expect(try row.decode(6, as: Date?.self) == nil)
            #expect(try row.decode(7, as: PostgresDate?.self) == nil)
            #expect(try row.decode(8, as: Data?.self) == nil)
            #expect(try row.decode(9, as: PostgresJSON?.self) == nil)
            #expect(try row.decode(10, as: [String]?.self) == nil)
            // A NULL where a value is required is an error, not a default.
            #expect(throws: PostgresError.self) { try row.decode(1, as: Int.self) }
        }
    }

    @Test func decodingErrorNamesTheColumnItsIndexAndBothTypes() async throws {
        try await TestDatabase.withFresh(migrated: false) { pool, _ in
            let row = try await pool.withConnection { try await $0.query("SELECT 1::int4 AS first, 'x'::text AS camera_ref")[0] }
            let error = try #require(throws: PostgresError.self) { try row.decode(1, as: Int.self) }
            #expect(error.code == .decoding)
            #expect(error.description.contains("column 1"))
            #expect(error.description.contains("\"camera_ref\""))
            #expect(error.description.contains("text"))
            #expect(error.description.contains("Int"))
            let missing = try #require(throws: PostgresError.self) { try row.decode(5, as: Int.self) }
            #expect(missing.description.contains("column 5"))
        }
    }
}
