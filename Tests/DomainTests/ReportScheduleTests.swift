import Domain
import Foundation
import Testing

@Suite("Domain: when the nightly reports fall due, in London time across both clock changes")
struct ReportScheduleTests {
    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }
    static let london = ReportSchedule.london

    @Test(arguments: [
        // An ordinary winter day, a summer day, and the two days the clocks change in 2027 (28 March: 01:00 GMT
        // becomes 02:00 BST; 31 October: 02:00 BST becomes 01:00 GMT).
        ("2027-01-15", "2027-01-15T00:00:00Z", "2027-01-16T00:00:00Z", 24),
        ("2027-07-01", "2027-06-30T23:00:00Z", "2027-07-01T23:00:00Z", 24),
        ("2027-03-28", "2027-03-28T00:00:00Z", "2027-03-28T23:00:00Z", 23),
        ("2027-10-31", "2027-10-30T23:00:00Z", "2027-11-01T00:00:00Z", 25),
    ])
    func aLondonDayRunsFromMidnightToMidnightLocal(_ day: String, _ start: String, _ end: String, _ hours: Int) {
        let interval = Self.london.interval(of: Day(day)!)
        #expect(interval.start == Self.at(start))
        #expect(interval.end == Self.at(end))
        #expect(interval.end.timeIntervalSince(interval.start) == TimeInterval(hours * 3600))
    }

    @Test(arguments: [
        // 02:00 local the morning after: GMT in winter, BST in summer, and on both change nights.
        ("2027-01-14", "2027-01-15T02:00:00Z"),
        ("2027-06-30", "2027-07-01T01:00:00Z"),
        ("2027-03-27", "2027-03-28T01:00:00Z"),  // 01:00 GMT is 02:00 BST the moment the clocks go forward
        ("2027-03-28", "2027-03-29T01:00:00Z"),
        ("2027-10-30", "2027-10-31T02:00:00Z"),  // after 02:00 BST became 01:00 GMT, 02:00 comes once, in GMT
        ("2027-10-31", "2027-11-01T02:00:00Z"),
    ])
    func eachNightFallsDueAtTwoInTheMorningLondonTime(_ day: String, _ due: String) {
        #expect(Self.london.due(Day(day)!) == Self.at(due))
    }

    @Test(arguments: [
        ("2027-03-28T00:59:59Z", "2027-03-26"), ("2027-03-28T01:00:00Z", "2027-03-27"),
        ("2027-10-31T01:59:59Z", "2027-10-29"), ("2027-10-31T02:00:00Z", "2027-10-30"),
        ("2027-10-31T00:30:00Z", "2027-10-29"),  // 01:30 BST, the first of the two 01:30s: not yet due
        ("2027-10-31T01:30:00Z", "2027-10-29"),  // 01:30 GMT, the second
        ("2027-01-15T23:59:59Z", "2027-01-14"), ("2027-01-16T00:00:00Z", "2027-01-14"), ("2027-01-16T02:00:00Z", "2027-01-15"),
    ])
    func theLatestDueDayTurnsOverAtTwoLondonTime(_ now: String, _ latest: String) {
        #expect(Self.london.latestDueDay(at: Self.at(now)) == Day(latest)!)
    }

    @Test func aTimeTheClocksSkipRunsAsLateAfterTheChangeAndARepeatedOneAtItsFirst() throws {
        let half = try #require(ReportSchedule(timeZone: TimeZone(identifier: "Europe/London")!, hour: 1, minute: 30, catchUpNights: 7))
        // 01:30 on 28 March 2027 does not exist in London: it runs at 02:30 BST (01:30 UTC).
        #expect(half.due(Day("2027-03-27")!) == Self.at("2027-03-28T01:30:00Z"))
        // 01:30 on 31 October 2027 happens twice: it runs at the first, 01:30 BST (00:30 UTC).
        #expect(half.due(Day("2027-10-30")!) == Self.at("2027-10-31T00:30:00Z"))
    }

    @Test func theCatchUpCoversTheLatestNightAndTheOnesBeforeIt() {
        let days = Self.london.dueDays(at: Self.at("2027-03-28T01:00:00Z"))
        #expect(days.map(\.description) == ["2027-03-21", "2027-03-22", "2027-03-23", "2027-03-24", "2027-03-25", "2027-03-26", "2027-03-27"])
        let one = ReportSchedule(timeZone: TimeZone(identifier: "Europe/London")!, hour: 2, minute: 0, catchUpNights: 1)!
        #expect(one.dueDays(at: Self.at("2027-03-28T01:00:00Z")) == [Day("2027-03-27")!])
    }

    @Test func anotherZoneAndTimeAreHonoured() throws {
        let newYork = try #require(ReportSchedule(timeZone: TimeZone(identifier: "America/New_York")!, hour: 6, minute: 15, catchUpNights: 3))
        #expect(newYork.due(Day("2027-01-14")!) == Self.at("2027-01-15T11:15:00Z"))
        #expect(newYork.interval(of: Day("2027-03-14")!).end.timeIntervalSince(newYork.interval(of: Day("2027-03-14")!).start) == 23 * 3600)
    }

    @Test(arguments: ["2:00", "24:00", "02:60", "0200", "02:00:00", "", "ab:cd", "-1:00"])
    func aTimeOfDayIsHHMM(_ text: String) {
        #expect(ReportSchedule.timeOfDay(text) == nil)
    }

    @Test func validTimesParseAndSchedulesRefuseNonsense() {
        #expect(ReportSchedule.timeOfDay("02:00")! == (2, 0))
        #expect(ReportSchedule.timeOfDay("23:59")! == (23, 59))
        #expect(ReportSchedule(timeZone: .gmt, hour: 2, minute: 0, catchUpNights: 0) == nil)
        #expect(ReportSchedule(timeZone: .gmt, hour: 2, minute: 0, catchUpNights: 32) == nil)
    }
}
