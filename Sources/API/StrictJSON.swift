/// RFC 8259 JSON, checked strictly before a body is decoded. Foundation's reader is lenient (it takes a trailing
/// comma, comments, single quotes in places); a client whose body it would accept might send the same body to
/// a stricter server and fail there, so every JSON body is checked against the grammar first.
enum StrictJSON {
    /// Where a text stops being JSON, and why.
    struct Fault: Error, Equatable {
        /// The offset of the first byte at fault.
        var offset: Int
        var reason: String
    }

    /// Checks that `bytes` are exactly one JSON value, with white space around it at most.
    static func check(_ bytes: some Collection<UInt8>) throws(Fault) {
        var reader = Reader(bytes: Array(bytes))
        reader.skipSpace()
        try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.index == reader.bytes.count else { throw Fault(offset: reader.index, reason: "something follows the JSON value") }
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        /// Deeper than this is refused rather than recursed into.
        static let maximumDepth = 64

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        func fault(_ reason: String) -> Fault { Fault(offset: index, reason: reason) }

        mutating func value(depth: Int) throws(Fault) {
            guard depth < Self.maximumDepth else { throw fault("values are nested too deeply") }
            guard index < bytes.count else { throw fault("the body ends where a value should be") }
            switch bytes[index] {
            case UInt8(ascii: "{"): try object(depth: depth)
            case UInt8(ascii: "["): try array(depth: depth)
            case UInt8(ascii: "\""): try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            case UInt8(ascii: "/"): throw fault("JSON has no comments")
            case UInt8(ascii: "'"): throw fault("strings are in double quotes")
            default: throw fault("a value should start here")
            }
        }

        mutating func object(depth: Int) throws(Fault) {
            index += 1
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw fault(
                        index < bytes.count && bytes[index] == UInt8(ascii: "}")
                            ? "a comma before } (trailing comma)" : "a name in double quotes should be here")
                }
                try string()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fault("a colon should follow the name") }
                index += 1
                skipSpace()
                try value(depth: depth + 1)
                skipSpace()
                guard index < bytes.count else { throw fault("the object is not closed") }
                if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return
                }
                guard bytes[index] == UInt8(ascii: ",") else { throw fault("a comma or } should be here") }
                index += 1
            }
        }

        mutating func array(depth: Int) throws(Fault) {
            index += 1
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { throw fault("a comma before ] (trailing comma)") }
                try value(depth: depth + 1)
                skipSpace()
                guard index < bytes.count else { throw fault("the array is not closed") }
                if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return
                }
                guard bytes[index] == UInt8(ascii: ",") else { throw fault("a comma or ] should be here") }
                index += 1
            }
        }

        mutating func string() throws(Fault) {
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return
                case UInt8(ascii: "\\"):
                    guard index + 1 < bytes.count else { throw fault("the string is not closed") }
                    let escaped = bytes[index + 1]
                    if escaped == UInt8(ascii: "u") {
                        guard index + 5 < bytes.count, bytes[(index + 2)...(index + 5)].allSatisfy(Self.isHexDigit) else {
                            throw fault("\\u needs four hexadecimal digits")
                        }
                        index += 6
                    } else {
                        guard Array("\"\\/bfnrt".utf8).contains(escaped) else { throw fault("not an escape JSON has") }
                        index += 2
                    }
                case 0x00..<0x20:
                    throw fault("a control character must be escaped in a string")
                default:
                    index += 1
                }
            }
            throw fault("the string is not closed")
        }

        mutating func literal(_ word: String) throws(Fault) {
            let expected = Array(word.utf8)
            guard index + expected.count <= bytes.count, Array(bytes[index..<(index + expected.count)]) == expected else {
                throw fault("not a value JSON has (true, false and null are in lower case)")
            }
            index += expected.count
        }

        mutating func number() throws(Fault) {
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, Self.isDigit(bytes[index]) else { throw fault("a digit should follow the minus sign") }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                if index < bytes.count, Self.isDigit(bytes[index]) { throw fault("a number does not start with 0") }
            } else {
                while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard index < bytes.count, Self.isDigit(bytes[index]) else { throw fault("a digit should follow the decimal point") }
                while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard index < bytes.count, Self.isDigit(bytes[index]) else { throw fault("a digit should follow the exponent") }
                while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
            }
        }

        static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

        static func isHexDigit(_ byte: UInt8) -> Bool {
            isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }
    }
}
