import Domain
import Foundation
import LibPQ
import Storage
import TestSupport
import Testing

/// The dispatcher's side of the queue, without a dispatcher: fan-out, claims under concurrency, recording outcomes
/// and reaping leases, all against the real database on a clock the test moves.
@Suite("Storage: the webhook queue")
struct WebhookQueueTests {
    static let westminster = UUID(uuidString: "39f0efa5-39b0-171a-600e-9c488329159e")!
    static let schedule = WebhookRetrySchedule(delays: [.seconds(60), .seconds(600)], jitter: 0, longestRetryAfter: .seconds(60))
    static let breaker = WebhookCircuitBreaker(threshold: 3, firstOpen: .seconds(300), longestOpen: .seconds(300), disableAfter: .seconds(86_400))

    /// `endpoints` endpoints of Westminster's and an event about each of `subjects` subjects (two events each, in
    /// sequence), fanned out; the endpoints' ids.
    static func queue(_ pool: PostgresPool, clock: ManualClock, endpoints: Int, subjects: Int) async throws -> [UUID] {
        let ids: [UUID] = try await pool.withConnection { connection in
            var ids: [UUID] = []
            for index in 0..<endpoints {
                ids.append(
                    try await connection.query(
                        "INSERT INTO webhook_endpoints (organisation_id, url, secret) VALUES ($1, $2, $3) RETURNING id", westminster,
                        "http://127.0.0.1:9/\(index)", WebhookSecret.generate().text
                    )[0].decode(0)
                )
            }
            try await connection.query(
                """
                INSERT INTO events (type, subject, sequence, audience, payload, created_at)
                SELECT 'camera.updated', 'camera/test-' || n, s, ARRAY[$1::uuid], jsonb_build_object('id', 'test-' || n, 'version', s), $3
                FROM generate_series(1, $2) n, generate_series(1, 2) s ORDER BY s, n
                """,
                westminster, subjects, clock.now()
            )
            return ids
        }
        let fanned = try await WebhookQueue(Database(pool: pool, clock: clock)).fanOut(limit: 10_000)
        #expect(fanned == (events: 2 * subjects, deliveries: 2 * subjects * endpoints))
        return ids
    }

    static func outcome(_ status: Int, at time: Date) -> WebhookQueue.Outcome {
        WebhookQueue.Outcome(statusCode: status, retryAfter: nil, errorClass: nil, errorMessage: nil, timings: nil, startedAt: time)
    }

    @Test func claimsUnderConcurrencyTakeEachDeliveryOnceAndOnlyTheHeadOfEachSubject() async throws {
        try await TestDatabase.withFresh(maxConnections: 8) { pool, _ in
            let clock = ManualClock()
            let endpoints = try await Self.queue(pool, clock: clock, endpoints: 2, subjects: 20)
            let queue = WebhookQueue(Database(pool: pool, clock: clock))
            // Four claimers at once, each taking what it can: every claim is of a different delivery, at most four
            // in flight per endpoint, and only the first event of each subject (the second waits for it).
            let claims = try await withThrowingTaskGroup(of: [WebhookQueue.Claim].self) { group in
                for _ in 0..<4 { group.addTask { try await queue.claim(limit: 100, perEndpoint: 4, lease: .seconds(30)) } }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(Set(claims.map(\.deliveryID)).count == claims.count)
            #expect(claims.count == 8)
            for endpoint in endpoints { #expect(claims.filter { $0.endpointID == endpoint }.count == 4) }
            #expect(claims.allSatisfy { $0.attempt == 1 && $0.body.contains(#""version": 1"#) })
        }
    }

    @Test func outcomesAreRecordedAndAFailureIsRetriedWhenTheClockReachesItsTime() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let clock = ManualClock()
            _ = try await Self.queue(pool, clock: clock, endpoints: 1, subjects: 2)
            let queue = WebhookQueue(Database(pool: pool, clock: clock))
            let claims = try await queue.claim(limit: 10, perEndpoint: 8, lease: .seconds(30))
            #expect(claims.count == 2)
            let recorded = try await queue.record(
                [
                    WebhookQueue.Attempt(claims[0], Self.outcome(204, at: clock.now())),
                    WebhookQueue.Attempt(claims[1], Self.outcome(500, at: clock.now())),
                ],
                schedule: Self.schedule, breaker: Self.breaker
            )
            #expect(recorded == [.delivered, .retrying])
            // The delivered subject's second event is due now; the failed one is not, nor is its subject's next.
            let next = try await queue.claim(limit: 10, perEndpoint: 8, lease: .seconds(30))
            #expect(next.map(\.subject) == [claims[0].subject] && next[0].body.contains(#""version": 2"#))
            _ = try await queue.record(
                [WebhookQueue.Attempt(next[0], Self.outcome(204, at: clock.now()))], schedule: Self.schedule, breaker: Self.breaker)
            #expect(try await queue.claim(limit: 10, perEndpoint: 8, lease: .seconds(30)).isEmpty)
            // A minute on, the retry is due: attempt 2 of the same delivery.
            clock.advance(by: .seconds(59))
            #expect(try await queue.claim(limit: 10, perEndpoint: 8, lease: .seconds(30)).isEmpty)
            clock.advance(by: .seconds(1))
            let retry = try await queue.claim(limit: 10, perEndpoint: 8, lease: .seconds(30))
            #expect(retry.map(\.deliveryID) == [claims[1].deliveryID] && retry[0].attempt == 2)
        }
    }

    @Test func aLeaseThatRunsOutIsReapedOnceAndLoggedAsExpired() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let clock = ManualClock()
            _ = try await Self.queue(pool, clock: clock, endpoints: 1, subjects: 1)
            let queue = WebhookQueue(Database(pool: pool, clock: clock))
            let claim = try #require(try await queue.claim(limit: 1, perEndpoint: 8, lease: .seconds(30)).first)
            #expect(try await queue.reapExpiredLeases(now: clock.now()) == 0)
            clock.advance(by: .seconds(31))
            #expect(try await queue.reapExpiredLeases(now: clock.now()) == 1)
            #expect(try await queue.reapExpiredLeases(now: clock.now()) == 0)
            // The slow dispatcher's late outcome finds the delivery no longer its own; the next claim is attempt 2.
            let late = try await queue.record(
                [WebhookQueue.Attempt(claim, Self.outcome(204, at: clock.now()))], schedule: Self.schedule, breaker: Self.breaker)
            #expect(late == [.stale])
            let again = try #require(try await queue.claim(limit: 1, perEndpoint: 8, lease: .seconds(30)).first)
            #expect(again.deliveryID == claim.deliveryID && again.attempt == 2)
            let log: [String?] = try await pool.withConnection { connection in
                try await connection.query("SELECT error_class FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt", claim.deliveryID)
                    .map { try $0.decode(0) }
            }
            #expect(log == ["lease_expired"])
        }
    }

    @Test func eventsPastRetentionArePurgedWithTheirDeliveries() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let clock = ManualClock()
            _ = try await Self.queue(pool, clock: clock, endpoints: 1, subjects: 3)
            let queue = WebhookQueue(Database(pool: pool, clock: clock))
            #expect(try await queue.purge(olderThan: .seconds(86_400), now: clock.now()) == 0)
            clock.advance(by: .seconds(86_401))
            #expect(try await queue.purge(olderThan: .seconds(86_400), now: clock.now()) == 6)
            #expect(try await count("webhook_deliveries", pool) == 0)
        }
    }
}
