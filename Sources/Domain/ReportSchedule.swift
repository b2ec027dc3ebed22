import Foundation

/// When the nightly reports are built (DESIGN §4.4): at a local time of day in a time zone (02:00 Europe/London),
/// each night for the calendar day before, catching up the nights missed while no worker ran.
///
/// Local times are turned into instants by the zone's rules, daylight saving included: a time that a spring
/// change skips runs at the same distance after the change (01:30 on the night the clocks go from 01:00 to 02:00
/// runs at 02:30), and a time that an autumn change repeats runs at its first occurrence.
public struct ReportSchedule: Sendable, Hashable {
    /// The zone whose calendar days the reports cover.
    public let timeZone: TimeZone
    /// The local time of day the night's build is due, as hours and minutes.
    public let hour: Int
    public let minute: Int
    /// How many nights the job builds at most when it finds nights missed (the latest night included).
    public let catchUpNights: Int

    /// The schedule; `nil` unless `hour` is 0–23, `minute` 0–59 and `catchUpNights` 1–31.
    public init?(timeZone: TimeZone, hour: Int, minute: Int, catchUpNights: Int) {
        guard (0...23).contains(hour), (0...59).contains(minute), (1...31).contains(catchUpNights) else { return nil }
        self.timeZone = timeZone
        self.hour = hour
        self.minute = minute
        self.catchUpNights = catchUpNights
    }

    /// 02:00 Europe/London, catching up 7 nights.
    public static let london = ReportSchedule(timeZone: TimeZone(identifier: "Europe/London")!, hour: 2, minute: 0, catchUpNights: 7)!

    /// Parses `HH:MM` into an hour and minute.
    public static func timeOfDay(_ text: String) -> (hour: Int, minute: Int)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }), let hour = Int(parts[0]),
            let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        return (hour, minute)
    }

    /// The calendar day, in the zone, of `date`.
    public func day(of date: Date) -> Day {
        Day(date.addingTimeInterval(TimeInterval(timeZone.secondsFromGMT(for: date))))
    }

    /// The instant the zone's clocks show `hour:minute` on `day` (see the type's note on daylight saving).
    public func instant(_ day: Day, hour: Int, minute: Int) -> Date {
        let local = TimeInterval(day.daysSince1970 * 86_400 + hour * 3_600 + minute * 60)
        // The offsets either side of any change near this local time: a change is never within 12 hours of another.
        let before = TimeInterval(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: local - 43_200)))
        let after = TimeInterval(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: local + 43_200)))
        let readings = [before, after].map { Date(timeIntervalSince1970: local - $0) }.filter {
            TimeInterval(timeZone.secondsFromGMT(for: $0)) == local - $0.timeIntervalSince1970
        }
        // Both readings hold when the time repeats (take the first), neither when it is skipped (the clocks moved
        // on by the change, so the instant is the local time read at the offset before it).
        return readings.min() ?? Date(timeIntervalSince1970: local - before)
    }

    /// The first and the end instant of `day` in the zone: 23 hours long when the clocks go forward, 25 when back.
    public func interval(of day: Day) -> (start: Date, end: Date) {
        (instant(day, hour: 0, minute: 0), instant(day.adding(days: 1), hour: 0, minute: 0))
    }

    /// When the report of `day` falls due: the schedule's time on the day after.
    public func due(_ day: Day) -> Date { instant(day.adding(days: 1), hour: hour, minute: minute) }

    /// The latest day whose report is due at `now`.
    public func latestDueDay(at now: Date) -> Day {
        let today = day(of: now)
        return now >= due(today.adding(days: -1)) ? today.adding(days: -1) : today.adding(days: -2)
    }

    /// The days whose reports are due at `now`, oldest first: the latest and the nights before it, as many as the
    /// schedule catches up.
    public func dueDays(at now: Date) -> [Day] {
        let latest = latestDueDay(at: now)
        return (0..<catchUpNights).reversed().map { latest.adding(days: -$0) }
    }
}
