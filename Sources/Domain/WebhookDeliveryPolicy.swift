import Foundation

/// How a failed delivery is retried: after each failed attempt, the next waits the schedule's delay for that
/// attempt, give or take `jitter` of it; when the schedule runs out the delivery has failed.
public struct WebhookRetrySchedule: Sendable, Hashable {
    /// The waits after the first, second, … failed attempt.
    public var delays: [Duration]
    /// The fraction each wait may be shortened or lengthened by at random, spreading retries of one outage.
    public var jitter: Double
    /// The longest `Retry-After` honoured.
    public var longestRetryAfter: Duration

    /// DESIGN §7: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, each ±10 %.
    public static let standard = WebhookRetrySchedule(
        delays: [
            .seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18000), .seconds(36000), .seconds(50400),
            .seconds(72000), .seconds(86400),
        ],
        jitter: 0.1, longestRetryAfter: .seconds(86400)
    )

    /// A schedule from its parts.
    public init(delays: [Duration], jitter: Double, longestRetryAfter: Duration) {
        self.delays = delays
        self.jitter = jitter
        self.longestRetryAfter = longestRetryAfter
    }

    /// How long to wait after failed attempt number `attempt` (1 for the first), to the millisecond, or `nil`
    /// if that was the last. A `retryAfter` the receiver asked for replaces the schedule's wait, within `longestRetryAfter`.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil, random: Double = Double.random(in: -1...1)) -> Duration? {
        guard attempt >= 1, attempt <= delays.count else { return nil }
        if let retryAfter { return min(max(retryAfter, .zero), longestRetryAfter) }
        let seconds = delays[attempt - 1].seconds * (1 + jitter * max(-1, min(1, random)))
        return .milliseconds(Int((seconds * 1000).rounded()))
    }
}

/// What an attempt's outcome means for its delivery and its endpoint.
public enum WebhookAttemptVerdict: Sendable, Hashable {
    /// 2xx: delivered.
    case delivered
    /// 410: the endpoint is gone; disable it.
    case gone
    /// Anything else: try again later, after `retryAfter` if the receiver said (429 and 503 only).
    case retry(retryAfter: Duration?)

    /// The verdict on an HTTP status, with the response's `Retry-After` (RFC 9110 §10.2.3: seconds or an
    /// HTTP date) read relative to `now`.
    public static func of(status: Int, retryAfter: String?, now: Date) -> WebhookAttemptVerdict {
        switch status {
        case 200..<300: return .delivered
        case 410: return .gone
        case 429, 503: return .retry(retryAfter: retryAfter.flatMap { parseRetryAfter($0, now: now) })
        default: return .retry(retryAfter: nil)
        }
    }

    /// A `Retry-After` value as a wait from `now`, or `nil` if it is neither a number of seconds nor an HTTP date.
    public static func parseRetryAfter(_ text: String, now: Date) -> Duration? {
        let value = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(value), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: value) else { return nil }
        return .seconds(max(0, Int(date.timeIntervalSince(now).rounded(.up))))
    }
}

/// The circuit breaker of one endpoint: after `threshold` consecutive failed attempts it opens for a while
/// (doubling with every further failure, up to `longestOpen`), during which none of the endpoint's deliveries
/// is claimed; when that passes one delivery at a time probes it, and the first success closes it. An endpoint
/// failing for `disableAfter` is disabled.
public struct WebhookCircuitBreaker: Sendable, Hashable {
    public var threshold: Int
    public var firstOpen: Duration
    public var longestOpen: Duration
    public var disableAfter: Duration

    /// DESIGN §7: open after 5 failures in a row, for 30 s doubling up to 10 min; disable after 5 days.
    public static let standard = WebhookCircuitBreaker(
        threshold: 5, firstOpen: .seconds(30), longestOpen: .seconds(600), disableAfter: .seconds(5 * 86400))

    /// A breaker from its parts.
    public init(threshold: Int, firstOpen: Duration, longestOpen: Duration, disableAfter: Duration) {
        self.threshold = threshold
        self.firstOpen = firstOpen
        self.longestOpen = longestOpen
        self.disableAfter = disableAfter
    }

    /// How long the circuit stays open after `consecutiveFailures` failures in a row, or `nil` if it stays closed.
    public func openFor(consecutiveFailures: Int) -> Duration? {
        guard consecutiveFailures >= threshold else { return nil }
        var wait = firstOpen
        for _ in 0..<min(consecutiveFailures - threshold, 20) where wait < longestOpen { wait = wait * 2 }
        return min(wait, longestOpen)
    }
}
