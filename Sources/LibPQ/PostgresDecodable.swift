import Foundation

/// A Swift value that can be decoded from a result column in PostgreSQL's binary format.
public protocol PostgresDecodable: Sendable {
    /// Decodes a non-NULL value of the given type; throws `PostgresDecodingFailure` when the type does not fit.
    static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> Self
    /// Decodes SQL NULL; non-optional types throw.
    static func decodeNull(type: PostgresType) throws(PostgresDecodingFailure) -> Self
}

extension PostgresDecodable {
    public static func decodeNull(type: PostgresType) throws(PostgresDecodingFailure) -> Self { throw .unexpectedNull }
}

/// Why one value could not be decoded; `PostgresRow` adds the column and both types.
public enum PostgresDecodingFailure: Error, Sendable {
    /// The column's type cannot become the Swift type asked for.
    case typeMismatch
    /// The column is NULL and the Swift type is not optional.
    case unexpectedNull
    /// The bytes are not a valid value of the column's type.
    case malformed(String)
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> Self {
        try Wrapped.decode(bytes, type: type)
    }

    public static func decodeNull(type: PostgresType) throws(PostgresDecodingFailure) -> Self { nil }
}

/// Readers and writers for PostgreSQL's binary wire formats.
enum PostgresBinary {
    /// Seconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
    static let postgresEpoch: Double = 946_684_800

    static func integer<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0, as: T.Type = T.self)
        throws(PostgresDecodingFailure) -> T
    {
        guard offset >= 0, bytes.count >= offset + MemoryLayout<T>.size else {
            throw .malformed("expected \(MemoryLayout<T>.size) bytes at offset \(offset), have \(bytes.count)")
        }
        var value = T.zero
        for index in 0..<MemoryLayout<T>.size {
            value = (value << 8) | T(truncatingIfNeeded: bytes[offset + index])
        }
        return value
    }

    static func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<MemoryLayout<T>.size).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    static func microsecondsSince2000(_ date: Date) -> Int64 {
        Int64(((date.timeIntervalSince1970 - postgresEpoch) * 1_000_000).rounded())
    }
}

extension String: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> String {
        switch type {
        case .text, .varchar, .bpchar, .name, .unknown, .json: return String(decoding: bytes, as: UTF8.self)
        default: throw .typeMismatch
        }
    }
}

extension Bool: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> Bool {
        guard type == .bool else { throw .typeMismatch }
        return try PostgresBinary.integer(bytes, as: UInt8.self) != 0
    }
}

extension Int64: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> Int64 {
        switch type {
        case .int8: return try PostgresBinary.integer(bytes)
        case .int4: return Int64(try PostgresBinary.integer(bytes, as: Int32.self))
        case .int2: return Int64(try PostgresBinary.integer(bytes, as: Int16.self))
        default: throw .typeMismatch
        }
    }
}

extension Int: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> Int {
        Int(try Int64.decode(bytes, type: type))
    }
}

extension Int32: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> Int32 {
        switch type {
        case .int4: return try PostgresBinary.integer(bytes)
        case .int2: return Int32(try PostgresBinary.integer(bytes, as: Int16.self))
        default: throw .typeMismatch
        }
    }
}

extension Int16: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> Int16 {
        guard type == .int2 else { throw .typeMismatch }
        return try PostgresBinary.integer(bytes)
    }
}

extension Double: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> Double {
        switch type {
        case .float8: return Double(bitPattern: try PostgresBinary.integer(bytes))
        case .float4: return Double(Float(bitPattern: try PostgresBinary.integer(bytes)))
        default: throw .typeMismatch
        }
    }
}

extension Decimal: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> Decimal {
        let numeric = try PostgresNumeric.decode(bytes, type: type)
        guard let value = Decimal(string: numeric.text, locale: Locale(identifier: "en_US_POSIX")) else {
            throw .malformed("numeric \(numeric.text) does not fit Decimal")
        }
        return value
    }
}

/// A `numeric` value, exactly as PostgreSQL holds it, in its canonical text form (e.g. `-12.500`, `NaN`).
public struct PostgresNumeric: Hashable, Sendable, CustomStringConvertible {
    /// The exact decimal text.
    public let text: String

    /// A value from decimal text.
    public init(text: String) { self.text = text }

    public var description: String { text }
}

extension PostgresNumeric: PostgresEncodable {
    public var postgresParameter: PostgresParameter { .init(type: .numeric, text: text) }
}

extension PostgresNumeric: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> PostgresNumeric {
        guard type == .numeric else { throw .typeMismatch }
        // Header: ndigits, weight, sign, dscale; then ndigits base-10000 digits, most significant first.
        let count = Int(try PostgresBinary.integer(bytes, at: 0, as: Int16.self))
        let weight = Int(try PostgresBinary.integer(bytes, at: 2, as: Int16.self))
        let sign = try PostgresBinary.integer(bytes, at: 4, as: UInt16.self)
        let scale = Int(try PostgresBinary.integer(bytes, at: 6, as: Int16.self))
        switch sign {
        case 0xC000: return PostgresNumeric(text: "NaN")
        case 0xD000: return PostgresNumeric(text: "Infinity")
        case 0xF000: return PostgresNumeric(text: "-Infinity")
        case 0x0000, 0x4000: break
        default: throw .malformed("numeric sign \(sign)")
        }
        var digits: [Int] = []
        for index in 0..<count {
            digits.append(Int(try PostgresBinary.integer(bytes, at: 8 + 2 * index, as: Int16.self)))
        }
        func digit(_ index: Int) -> Int { index >= 0 && index < digits.count ? digits[index] : 0 }
        func fourDigits(_ value: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: 4 - text.count) + text
        }
        var text = sign == 0x4000 ? "-" : ""
        if weight < 0 {
            text += "0"
        } else {
            text += String(digit(0))
            if weight > 0 { for index in 1...weight { text += fourDigits(digit(index)) } }
        }
        if scale > 0 {
            var fraction = ""
            var index = weight + 1
            while fraction.count < scale {
                fraction += fourDigits(digit(index))
                index += 1
            }
            text += "." + fraction.prefix(scale)
        }
        return PostgresNumeric(text: text)
    }
}

extension UUID: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> UUID {
        guard type == .uuid else { throw .typeMismatch }
        guard bytes.count == 16 else { throw .malformed("uuid of \(bytes.count) bytes") }
        let b = Array(bytes)
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }
}

extension Date: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> Date {
        guard type == .timestamptz || type == .timestamp else { throw .typeMismatch }
        let microseconds = try PostgresBinary.integer(bytes, as: Int64.self)
        guard microseconds != .max, microseconds != .min else { throw .malformed("infinite timestamp") }
        return Date(timeIntervalSince1970: PostgresBinary.postgresEpoch + Double(microseconds) / 1_000_000)
    }
}

extension PostgresDate: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> PostgresDate {
        guard type == .date else { throw .typeMismatch }
        let days = try PostgresBinary.integer(bytes, as: Int32.self)
        guard days != .max, days != .min else { throw .malformed("infinite date") }
        return PostgresDate(daysSince1970: Int(days) + 10_957)
    }
}

extension Data: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> Data {
        guard type == .bytea else { throw .typeMismatch }
        return Data(bytes)
    }
}

extension PostgresJSON: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> PostgresJSON {
        switch type {
        case .json:
            return PostgresJSON(text: String(decoding: bytes, as: UTF8.self))
        case .jsonb:
            // jsonb's binary form is a version byte (1) followed by the JSON text.
            guard bytes.first == 1 else { throw .malformed("jsonb version \(bytes.first.map(String.init) ?? "missing")") }
            return PostgresJSON(text: String(decoding: UnsafeRawBufferPointer(rebasing: bytes.dropFirst()), as: UTF8.self))
        default:
            throw .typeMismatch
        }
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresDecodingFailure) -> [Element] {
        guard [.textArray, .varcharArray, .uuidArray, .int8Array].contains(type) else { throw .typeMismatch }
        // Header: ndim, has-null flag, element OID; per dimension its size and lower bound; then each
        // element as a length (-1 for NULL) and its bytes.
        let dimensions = try PostgresBinary.integer(bytes, at: 0, as: Int32.self)
        let elementType = PostgresType(oid: try PostgresBinary.integer(bytes, at: 8, as: UInt32.self))
        if dimensions == 0 { return [] }
        guard dimensions == 1 else { throw .malformed("\(dimensions)-dimensional array") }
        let count = Int(try PostgresBinary.integer(bytes, at: 12, as: Int32.self))
        var offset = 20
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(try PostgresBinary.integer(bytes, at: offset, as: Int32.self))
            offset += 4
            if length < 0 {
                elements.append(try Element.decodeNull(type: elementType))
                continue
            }
            guard offset + length <= bytes.count else { throw .malformed("array element overruns the value") }
            elements.append(try Element.decode(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), type: elementType))
            offset += length
        }
        return elements
    }
}
