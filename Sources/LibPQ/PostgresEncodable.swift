import Foundation

/// A parameter as libpq takes it: a type, a format and bytes (`nil` for SQL NULL).
public struct PostgresParameter: Sendable, Hashable {
    /// Whether `bytes` is PostgreSQL's text or binary representation.
    public enum Format: Int32, Sendable {
        case text = 0
        case binary = 1
    }

    /// The parameter's type, sent to the server so it need not guess.
    public var type: PostgresType
    /// The representation `bytes` is in.
    public var format: Format
    /// The value; `nil` is SQL NULL.
    public var bytes: [UInt8]?

    /// A parameter in text representation.
    public init(type: PostgresType, text: String) {
        self.type = type
        self.format = .text
        self.bytes = Array(text.utf8)
    }

    /// A parameter in binary representation.
    public init(type: PostgresType, binary: [UInt8]) {
        self.type = type
        self.format = .binary
        self.bytes = binary
    }

    /// SQL NULL of the given type.
    public static func null(_ type: PostgresType = PostgresType(oid: 0)) -> PostgresParameter {
        var parameter = PostgresParameter(type: type, text: "")
        parameter.bytes = nil
        return parameter
    }
}

/// A Swift value that can be bound as a query parameter (`$1`, `$2` …).
public protocol PostgresEncodable: Sendable {
    /// The value as a parameter.
    var postgresParameter: PostgresParameter { get }
}

extension String: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(type: .text, text: self) }
}

extension Substring: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(type: .text, text: String(self)) }
}

extension Bool: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(type: .bool, text: self ? "t" : "f") }
}

extension Int: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(type: .int8, text: String(self)) }
}

extension Int64: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(type: .int8, text: String(self)) }
}

extension Int32: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(type: .int4, text: String(self)) }
}

extension Int16: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(type: .int2, text: String(self)) }
}

extension Double: PostgresEncodable {
    public var postgresParameter: PostgresParameter {
        let text: String
        if isNaN {
            text = "NaN"
        } else if isInfinite {
            text = self < 0 ? "-Infinity" : "Infinity"
        } else {
            text = "\(self)"  // Swift prints the shortest text that reads back as the same Double.
        }
        return .init(type: .float8, text: text)
    }
}

extension Decimal: PostgresEncodable {
    public var postgresParameter: PostgresParameter {
        .init(type: .numeric, text: NSDecimalNumber(decimal: self).description(withLocale: Locale(identifier: "en_US_POSIX")))
    }
}

extension UUID: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(type: .uuid, text: uuidString) }
}

extension Date: PostgresEncodable {
    public var postgresParameter: PostgresParameter {
        .init(type: .timestamptz, binary: PostgresBinary.bigEndianBytes(PostgresBinary.microsecondsSince2000(self)))
    }
}

extension Data: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(type: .bytea, binary: Array(self)) }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public var postgresParameter: PostgresParameter {
        let elements = map { element -> String in
            var quoted = "\""
            for character in element.postgresArrayText {
                if character == "\"" || character == "\\" { quoted.append("\\") }
                quoted.append(character)
            }
            return quoted + "\""
        }
        return .init(type: Element.postgresArrayType, text: "{" + elements.joined(separator: ",") + "}")
    }
}

/// A value that can be an element of a one-dimensional array parameter.
public protocol PostgresArrayElement: Sendable {
    /// The array type whose elements are of this type, e.g. `text[]` for `String`.
    static var postgresArrayType: PostgresType { get }
    /// The element's text representation, before array quoting.
    var postgresArrayText: String { get }
}

extension String: PostgresArrayElement {
    public static var postgresArrayType: PostgresType { .textArray }
    public var postgresArrayText: String { self }
}

extension UUID: PostgresArrayElement {
    public static var postgresArrayType: PostgresType { .uuidArray }
    public var postgresArrayText: String { uuidString }
}

extension Int: PostgresArrayElement {
    public static var postgresArrayType: PostgresType { .int8Array }
    public var postgresArrayText: String { String(self) }
}

/// A calendar date (PostgreSQL `date`) with no time of day and no time zone.
public struct PostgresDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The year, e.g. 2026.
    public var year: Int
    /// The month, 1–12.
    public var month: Int
    /// The day of the month, 1–31.
    public var day: Int

    /// A date from its parts; they are not checked here, the server checks them when the value is bound.
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `days` days after 1970-01-01 (negative for earlier dates).
    public init(daysSince1970 days: Int) {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Days after 1970-01-01 (negative for earlier dates).
    public var daysSince1970: Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func < (lhs: PostgresDate, rhs: PostgresDate) -> Bool { lhs.daysSince1970 < rhs.daysSince1970 }

    /// `YYYY-MM-DD`.
    public var description: String {
        let y = String(year).leftPadded(to: 4)
        return "\(y)-\(String(month).leftPadded(to: 2))-\(String(day).leftPadded(to: 2))"
    }
}

extension PostgresDate: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(type: .date, text: description) }
}

/// A `json` or `jsonb` value, kept as its JSON text.
public struct PostgresJSON: Hashable, Sendable {
    /// The JSON text.
    public var text: String

    /// A value from JSON text; the server checks that it is JSON.
    public init(text: String) { self.text = text }

    /// A value from anything `Encodable`.
    public init<T: Encodable>(encoding value: T, encoder: JSONEncoder = JSONEncoder()) throws {
        self.text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Decodes the JSON into `T`.
    public func decode<T: Decodable>(_ type: T.Type = T.self, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(T.self, from: Data(text.utf8))
    }
}

extension PostgresJSON: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(type: .jsonb, text: text) }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
