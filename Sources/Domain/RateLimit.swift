/// A per-key request allowance: a bucket of `burst` tokens refilled at `perSecond`; each request takes one.
public struct RateLimitPolicy: Sendable, Hashable {
    /// Sustained requests per second.
    public var perSecond: Double
    /// Requests allowed at once after a quiet spell.
    public var burst: Int

    /// A policy; both figures must be positive.
    public init(perSecond: Double, burst: Int) {
        precondition(perSecond > 0 && burst > 0, "a rate limit needs a positive rate and burst")
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Failed authentications allowed per client address: 20 at once, then one every 3 seconds. Each failure is
    /// an audit row; this keeps a flood of bad keys from filling the log, while a client with a mistyped key
    /// still sees its 401s.
    public static let failedAuthentication = RateLimitPolicy(perSecond: 1.0 / 3.0, burst: 20)

    /// Seconds an empty bucket takes to fill: the policy's window.
    public var window: Double { Double(burst) / perSecond }
}

/// The state of one key's bucket.
public struct TokenBucket: Sendable, Hashable {
    /// What a request learns from the bucket.
    public enum Decision: Sendable, Hashable {
        /// Served; `remaining` tokens are left and the bucket is full again after `resetSeconds`.
        case allowed(remaining: Int, resetSeconds: Double)
        /// Refused; a token is available again after `retryAfterSeconds`.
        case limited(retryAfterSeconds: Double)
    }

    private let policy: RateLimitPolicy
    private var tokens: Double
    private var updatedAt: Double

    /// A full bucket at time `now` (seconds on any monotonic clock).
    public init(policy: RateLimitPolicy, now: Double) {
        self.policy = policy
        self.tokens = Double(policy.burst)
        self.updatedAt = now
    }

    /// Takes a token at `now` if there is one.
    public mutating func take(at now: Double) -> Decision {
        refill(at: now)
        guard tokens >= 1 else { return .limited(retryAfterSeconds: (1 - tokens) / policy.perSecond) }
        tokens -= 1
        return .allowed(remaining: Int(tokens), resetSeconds: (Double(policy.burst) - tokens) / policy.perSecond)
    }

    /// Whether the bucket would be full at `now`, so forgetting it changes nothing.
    public func isFull(at now: Double) -> Bool {
        tokens + (now - updatedAt) * policy.perSecond >= Double(policy.burst)
    }

    private mutating func refill(at now: Double) {
        tokens = min(Double(policy.burst), tokens + max(0, now - updatedAt) * policy.perSecond)
        updatedAt = max(updatedAt, now)
    }
}
