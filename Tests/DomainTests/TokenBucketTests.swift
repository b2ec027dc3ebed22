import Domain
import Testing

@Suite("Domain: rate limiting by token bucket")
struct TokenBucketTests {
    @Test func allowsTheBurstThenRefusesUntilATokenReturns() {
        let policy = RateLimitPolicy(perSecond: 2, burst: 3)
        var bucket = TokenBucket(policy: policy, now: 100)
        #expect(bucket.take(at: 100) == .allowed(remaining: 2, resetSeconds: 0.5))
        #expect(bucket.take(at: 100) == .allowed(remaining: 1, resetSeconds: 1.0))
        #expect(bucket.take(at: 100) == .allowed(remaining: 0, resetSeconds: 1.5))
        #expect(bucket.take(at: 100) == .limited(retryAfterSeconds: 0.5))
        #expect(bucket.take(at: 100.25) == .limited(retryAfterSeconds: 0.25))
        #expect(bucket.take(at: 100.5) == .allowed(remaining: 0, resetSeconds: 1.5))
    }

    @Test func refillsAtTheRateAndNeverBeyondTheBurst() {
        var bucket = TokenBucket(policy: RateLimitPolicy(perSecond: 10, burst: 5), now: 0)
        for _ in 0..<5 { _ = bucket.take(at: 0) }
        #expect(!bucket.isFull(at: 0.4))
        #expect(bucket.isFull(at: 0.5))
        #expect(bucket.take(at: 60) == .allowed(remaining: 4, resetSeconds: 0.1))
    }

    @Test func aClockThatGoesBackwardsGrantsNothingExtra() {
        var bucket = TokenBucket(policy: RateLimitPolicy(perSecond: 1, burst: 1), now: 10)
        #expect(bucket.take(at: 10) == .allowed(remaining: 0, resetSeconds: 1))
        #expect(bucket.take(at: 5) == .limited(retryAfterSeconds: 1))
    }

    @Test func theWindowIsTheTimeToFillTheBucket() {
        #expect(RateLimitPolicy(perSecond: 50, burst: 200).window == 4)
    }
}
