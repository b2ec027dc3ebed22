import Foundation
import Synchronization

/// Where code that needs "now" reads it: handlers, stores, jobs and the webhook dispatcher each take one, so
/// that tests can move time instead of waiting for it.
///
/// The application's clock is the source of truth for every business time: deadlines, holds, alerts, retries,
/// circuit breakers, `created_at` and `updated_at`. Stores bind it into their SQL as a parameter and never call
/// the database's `now()`. The audit log and custody trail are the exception: their rows are stamped by the
/// database's own clock, so the application cannot backdate the record of what it did.
public protocol WallClock: Sendable {
    /// The current time, in whole microseconds (the precision PostgreSQL keeps).
    func now() -> Date
}

extension Date {
    /// This time to the nearest whole microsecond (the precision PostgreSQL keeps), in exactly the form a timestamp
    /// read back from the database takes (microseconds since 2000-01-01), so that a time that went to the
    /// database and back compares equal to the one that was sent.
    public var wholeMicroseconds: Date {
        let epoch2000: TimeInterval = 946_684_800
        let microseconds = ((timeIntervalSince1970 - epoch2000) * 1_000_000).rounded()
        return Date(timeIntervalSince1970: epoch2000 + microseconds / 1_000_000)
    }
}

/// The system's clock.
public struct SystemClock: WallClock {
    /// The system clock.
    public init() {}

    public func now() -> Date { Date().wholeMicroseconds }
}

/// A clock that stands still until it is moved: for tests, which move it instead of sleeping.
public final class ManualClock: WallClock {
    private let current: Mutex<Date>

    /// A clock showing `start` (by default the system's time now).
    public init(_ start: Date = Date()) { current = Mutex(start.wholeMicroseconds) }

    public func now() -> Date { current.withLock { $0 } }

    /// Moves the clock forward by `duration`.
    public func advance(by duration: Duration) {
        current.withLock { $0 = $0.addingTimeInterval(duration.seconds).wholeMicroseconds }
    }

    /// Sets the clock to `date`.
    public func set(_ date: Date) { current.withLock { $0 = date.wholeMicroseconds } }
}
