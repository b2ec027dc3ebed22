import Foundation
import LibPQ
import OpenAPIRuntime

/// Writes RFC 3339 times (`2026-11-21T05:09:52Z`, UTC, whole seconds, as the runtime's default does) by
/// arithmetic rather than through `ISO8601DateFormatter`, which costs tens of microseconds a date on Linux: a
/// page of 50 cameras carries 100 times. Reading still goes through the default transcoder, which accepts every
/// RFC 3339 form.
struct RFC3339DateTranscoder: DateTranscoder {
    private let reader = ISO8601DateTranscoder.iso8601

    func encode(_ date: Date) throws -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let date = PostgresDate(daysSince1970: days)
        let (year, month, day) = (date.year, date.month, date.day)
        var text = [UInt8]()
        text.reserveCapacity(20)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4)
        text.append(UInt8(ascii: "-"))
        digits(month, 2)
        text.append(UInt8(ascii: "-"))
        digits(day, 2)
        text.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2)
        text.append(UInt8(ascii: ":"))
        digits(secondOfDay % 3600 / 60, 2)
        text.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
    }

    func decode(_ text: String) throws -> Date { try reader.decode(text) }
}
