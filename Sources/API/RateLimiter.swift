import Domain
import Foundation
import HTTPTypes
import Synchronization

/// One token bucket per API key, in this instance's memory.
///
/// With several instances behind a load balancer a key's allowance is per instance; counting in the database
/// would make it exact at the cost of a write per request.
final class RateLimiter: Sendable {
    let policy: RateLimitPolicy
    private let buckets = Mutex<[UUID: TokenBucket]>([:])
    private let start = ContinuousClock.now

    init(policy: RateLimitPolicy) { self.policy = policy }

    /// Takes a token for `key`; the headers to send either way, and whether the request may go ahead.
    func admit(_ key: UUID) -> (allowed: Bool, headers: HTTPFields) {
        let now = (ContinuousClock.now - start) / .seconds(1)
        let decision = buckets.withLock { buckets in
            if buckets.count > 10_000 { buckets = buckets.filter { !$0.value.isFull(at: now) } }
            var bucket = buckets[key] ?? TokenBucket(policy: policy, now: now)
            let decision = bucket.take(at: now)
            buckets[key] = bucket
            return decision
        }
        var headers = HTTPFields()
        headers[.rateLimitPolicy] = "\"per-key\";q=\(policy.burst);w=\(Int(policy.window.rounded(.up)))"
        switch decision {
        case .allowed(let remaining, let reset):
            headers[.rateLimit] = "\"per-key\";r=\(remaining);t=\(Int(reset.rounded(.up)))"
            return (true, headers)
        case .limited(let retryAfter):
            let seconds = max(1, Int(retryAfter.rounded(.up)))
            headers[.rateLimit] = "\"per-key\";r=0;t=\(seconds)"
            headers[.retryAfter] = String(seconds)
            return (false, headers)
        }
    }
}

extension HTTPField.Name {
    /// `RateLimit` (IETF draft-ietf-httpapi-ratelimit-headers): what is left of the current allowance.
    static let rateLimit = HTTPField.Name("RateLimit")!
    /// `RateLimit-Policy`: the allowance, as quota and window in seconds.
    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
}

extension Problem {
    static func tooManyRequests(headers: HTTPFields) -> Problem {
        Problem(
            status: .tooManyRequests, slug: "too-many-requests", title: "Too many requests",
            detail: "This key has used its allowance; retry after the number of seconds in Retry-After.", headers: headers
        )
    }
}
