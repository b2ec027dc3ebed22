import Domain
import Foundation
import OpenAPIRuntime

/// RFC 3339 times, by arithmetic rather than through `ISO8601DateFormatter`, which costs tens of microseconds a
/// date on Linux (a page of 50 cameras carries 100 times).
///
/// Writes `2026-11-21T05:09:52Z`: UTC, whole seconds, as the runtime's default does. Reads every form of RFC 3339
/// §5.6 `date-time`: a fraction of a second (`…52.123Z`, as JavaScript's `toISOString` writes), an offset
/// (`…52+01:00`), and `t` and `z` in lower case. (The runtime's default reader refused the first two, and the
/// client was told its body was not JSON.)
struct RFC3339DateTranscoder: DateTranscoder {
    func encode(_ date: Date) throws -> String { date.rfc3339 }

    func decode(_ text: String) throws -> Date {
        guard let date = Self.parse(Array(text.utf8)) else { throw InvalidDateTime(text: text) }
        return date
    }

    /// `full-date "T" partial-time time-offset`, or `nil`.
    static func parse(_ text: [UInt8]) -> Date? {
        func digit(_ index: Int) -> Int? {
            guard index < text.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[index]) else { return nil }
            return Int(text[index] - UInt8(ascii: "0"))
        }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for index in from..<from + count {
                guard let digit = digit(index) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        func byte(_ index: Int, is characters: String) -> Bool { index < text.count && characters.utf8.contains(text[index]) }
        guard let year = number(0, 4), byte(4, is: "-"), let month = number(5, 2), byte(7, is: "-"), let day = number(8, 2), byte(10, is: "Tt"),
            let hour = number(11, 2), byte(13, is: ":"), let minute = number(14, 2), byte(16, is: ":"), let second = number(17, 2)
        else { return nil }
        var index = 19
        var nanoseconds = 0
        if byte(index, is: ".") {
            index += 1
            var digits = 0
            while let digit = digit(index) {
                if digits < 9 { nanoseconds = nanoseconds * 10 + digit }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in min(digits, 9)..<9 { nanoseconds *= 10 }
        }
        var offset = 0
        if byte(index, is: "Zz") {
            index += 1
        } else if byte(index, is: "+-"), let hours = number(index + 1, 2), byte(index + 3, is: ":"), let minutes = number(index + 4, 2), hours < 24,
            minutes < 60
        {
            offset = (hours * 3600 + minutes * 60) * (text[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        // A leap second (60) is allowed, and read as the first second of the next minute.
        guard index == text.count, (1...12).contains(month), day >= 1, hour < 24, minute < 60, second <= 60 else { return nil }
        let days = Day.daysSince1970(year: year, month: month, day: day)
        guard Day.civil(daysSince1970: days) == (year, month, day) else { return nil }  // 30 February
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + Double(nanoseconds) / 1e9)
    }
}

/// A time in a request that is not an RFC 3339 date-time. The runtime's transcoder is not told which field it is
/// reading, so the problem quotes the text instead.
struct InvalidDateTime: Error {
    var text: String
}
