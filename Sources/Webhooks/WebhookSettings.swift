import Domain
import Foundation

/// How webhooks are sent (DESIGN §7): timeouts, concurrency, retries, the circuit breaker, retention and the
/// address policy.
public struct WebhookSettings: Sendable {
    /// Addresses that may be reached although not public (`SIGHTLINE_WEBHOOK_ALLOW_CIDRS`).
    public var policy: WebhookAddressPolicy
    public var connectTimeout: Duration
    /// The whole attempt, connecting included.
    public var timeout: Duration
    /// Deliveries in flight at once from one dispatcher.
    public var concurrency: Int
    /// Deliveries in flight at once to one endpoint.
    public var perEndpoint: Int
    /// How often the dispatcher looks for work when nothing wakes it.
    public var pollInterval: Duration
    public var schedule: WebhookRetrySchedule
    public var breaker: WebhookCircuitBreaker
    /// How long events (and so their deliveries) are kept.
    public var retention: Duration
    /// How long a rotated-out secret goes on signing.
    public var rotationOverlap: Duration

    /// Settings; the defaults are DESIGN §7's.
    public init(
        policy: WebhookAddressPolicy = WebhookAddressPolicy(), connectTimeout: Duration = .seconds(5), timeout: Duration = .seconds(15),
        concurrency: Int = 64, perEndpoint: Int = 8, pollInterval: Duration = .seconds(1), schedule: WebhookRetrySchedule = .standard,
        breaker: WebhookCircuitBreaker = .standard, retention: Duration = .seconds(90 * 86400), rotationOverlap: Duration = .seconds(86400)
    ) {
        self.policy = policy
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.concurrency = concurrency
        self.perEndpoint = perEndpoint
        self.pollInterval = pollInterval
        self.schedule = schedule
        self.breaker = breaker
        self.retention = retention
        self.rotationOverlap = rotationOverlap
    }

    /// A lease outlasts the longest attempt (twice over, and a second), so a delivery is reaped only when its
    /// dispatcher has stopped.
    public var lease: Duration { timeout * 2 + .seconds(1) }
}
