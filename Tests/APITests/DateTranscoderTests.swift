import Foundation
import OpenAPIRuntime
import Testing

@testable import API

@Suite("API: RFC 3339 times written by arithmetic")
struct DateTranscoderTests {
    @Test func writesWhatTheRuntimesFormatterWritesAndReadsItBack() throws {
        let fast = RFC3339DateTranscoder()
        let reference = ISO8601DateTranscoder.iso8601
        var generator = SystemRandomNumberGenerator()
        var dates = [0, -1, 951_782_400, 951_868_799, 4_107_542_400, -2_208_988_800, 1_795_238_992.75].map { Date(timeIntervalSince1970: $0) }
        for _ in 0..<2_000 { dates.append(Date(timeIntervalSince1970: Double.random(in: -3_000_000_000...6_000_000_000, using: &generator))) }
        for date in dates {
            let written = try fast.encode(date)
            // Fractions of a second are cut, never rounded up into a second that had not yet begun.
            let whole = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
            #expect(written == (try reference.encode(whole)), "\(date.timeIntervalSince1970)")
            #expect(try fast.decode(written).timeIntervalSince1970 == date.timeIntervalSince1970.rounded(.down))
        }
    }
}
