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

    @Test(arguments: [
        ("2026-11-21T05:09:52Z", 1_795_237_792.0),
        ("2026-11-21T05:09:52.123Z", 1_795_237_792.123),  // JavaScript's toISOString
        ("2026-11-21T05:09:52.123456789Z", 1_795_237_792.123456789),
        ("2026-11-21T06:09:52+01:00", 1_795_237_792.0),
        ("2026-11-20T23:39:52.5-05:30", 1_795_237_792.5),
        ("2026-11-21t05:09:52z", 1_795_237_792.0),
        ("2026-11-21T05:09:52+00:00", 1_795_237_792.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
        ("1969-12-31T23:59:59Z", -1.0),
        ("2016-12-31T23:59:60Z", 1_483_228_800.0),  // a leap second, read as the next minute's first
    ])
    func readsEveryRFC3339Form(text: String, seconds: Double) throws {
        let read = try RFC3339DateTranscoder().decode(text).timeIntervalSince1970
        #expect(abs(read - seconds) < 0.000_001, "\(text): \(read)")
    }

    @Test(arguments: [
        "", "2026-11-21", "2026-11-21T05:09Z", "2026-11-21T05:09:52", "2026-11-21 05:09:52Z", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-11-31T00:00:00Z", "2026-11-00T00:00:00Z", "2026-11-21T24:00:00Z", "2026-11-21T05:60:00Z", "2026-11-21T05:09:61Z",
        "2026-11-21T05:09:52.Z", "2026-11-21T05:09:52+0100", "2026-11-21T05:09:52+24:00", "2026-11-21T05:09:52Z ", "+2026-11-21T05:09:52Z",
        "２026-11-21T05:09:52Z", "2026-11-21T05:09:52+01:00:00",
    ])
    func refusesWhatIsNotRFC3339(text: String) {
        #expect(throws: InvalidDateTime.self, "\(text)") { try RFC3339DateTranscoder().decode(text) }
    }
}
