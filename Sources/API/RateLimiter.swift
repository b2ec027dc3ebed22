import Domain
import Foundation
import HTTPTypes
import Synchronization

/// One token bucket per key (an API key's id, a client's address), in this instance's memory.
///
/// With several instances behind a load balancer a key's allowance is per instance; counting in the database
/// would make it exact at the cost of a write per request.
final class RateLimiter<Key: Hashable & Sendable>: Sendable {
    let policy: RateLimitPolicy
    /// The policy's name in the `RateLimit` headers.
    let name: String
    private let buckets = Mutex<[Key: TokenBucket]>([:])
    private let start = ContinuousClock.now

    init(policy: RateLimitPolicy, name: String) {
        self.policy = policy
        self.name = name
    }

    /// Takes a token for `key`; the headers to send either way, and whether the request may go ahead.
    func admit(_ key: Key) -> (allowed: Bool, headers: HTTPFields) {
        let now = (ContinuousClock.now - start) / .seconds(1)
        let decision = buckets.withLock { buckets in
            if buckets.count > 10_000 { buckets = buckets.filter { !$0.value.isFull(at: now) } }
            var bucket = buckets[key] ?? TokenBucket(policy: policy, now: now)
            let decision = bucket.take(at: now)
            buckets[key] = bucket
            return decision
        }
        var headers = HTTPFields()
        headers[.rateLimitPolicy] = "\"\(name)\";q=\(policy.burst);w=\(Int(policy.window.rounded(.up)))"
        switch decision {
        case .allowed(let remaining, let reset):
            headers[.rateLimit] = "\"\(name)\";r=\(remaining);t=\(Int(reset.rounded(.up)))"
            return (true, headers)
        case .limited(let retryAfter):
            let seconds = max(1, Int(retryAfter.rounded(.up)))
            headers[.rateLimit] = "\"\(name)\";r=0;t=\(seconds)"
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

    static func tooManyFailedAuthentications(headers: HTTPFields) -> Problem {
        Problem(
            status: .tooManyRequests, slug: "too-many-requests", title: "Too many requests",
            detail: "Too many failed authentications from this address; retry after the number of seconds in Retry-After.",
            headers: headers
        )
    }
}
