import Domain
import Foundation
import LibPQ
import Storage
import TestSupport
import Testing
import Webhooks

/// The dispatcher on its own: endpoints and events written in SQL, a real receiver on loopback, the dispatcher's
/// clock moved by the test. (The API-level webhook tests, from registration to the delivery log, are in APITests.)
@Suite("Webhooks: the dispatcher against a real receiver")
struct WebhookDispatcherTests {
    static let westminster = UUID(uuidString: "39f0efa5-39b0-171a-600e-9c488329159e")!
    static let settings = WebhookSettings(
        policy: WebhookAddressPolicy(allowed: [AddressBlock("127.0.0.0/8")!]), connectTimeout: .seconds(2), timeout: .seconds(5),
        concurrency: 16, perEndpoint: 4, pollInterval: .milliseconds(100),
        schedule: WebhookRetrySchedule(delays: [.seconds(60)], jitter: 0, longestRetryAfter: .seconds(60))
    )

    /// An endpoint of Westminster's at `url`, and `count` events about each of two subjects, in sequence; its secret.
    static func endpoint(_ url: String, events count: Int, _ pool: PostgresPool, at time: Date) async throws -> String {
        let secret = WebhookSecret.generate().text
        try await pool.withConnection { connection in
            try await connection.query(
                "INSERT INTO webhook_endpoints (organisation_id, url, secret) VALUES ($1, $2, $3)", westminster, url, secret
            )
            try await connection.query(
                """
                INSERT INTO events (type, subject, sequence, audience, payload, created_at)
                SELECT 'camera.updated', 'camera/' || subject, s, ARRAY[$1::uuid], jsonb_build_object('id', subject, 'version', s), $3
                FROM generate_series(1, $2) s, (VALUES ('a'), ('b')) AS v(subject) ORDER BY s, subject
                """,
                westminster, count, time
            )
        }
        return secret
    }

    /// Runs a dispatcher over `pool` reading `clock` while `body` runs.
    static func dispatching(_ pool: PostgresPool, clock: ManualClock, _ body: @Sendable () async throws -> Void) async throws {
        let dispatcher = WebhookDispatcher(Database(pool: pool, clock: clock), settings: settings, metrics: nil, logger: TestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await dispatcher.run() }
            try await body()
            group.cancelAll()
        }
    }

    @Test func sendsEveryEventSignedOncePerSubjectInSequenceAndRecordsIt() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let receiver = WebhookReceiver()
            try await receiver.run { base in
                let clock = ManualClock()
                let secret = try await Self.endpoint(base + "/ok/westminster", events: 5, pool, at: clock.now())
                try await Self.dispatching(pool, clock: clock) { @Sendable () async throws in
                    #expect(try await eventually { receiver.all.count == 10 })
                    #expect(try await eventually { try await count("webhook_deliveries WHERE status = 'succeeded'", pool) == 10 })
                }
                let hooks = receiver.all
                #expect(hooks.allSatisfy { $0.isSigned(by: secret) && $0.attempt == 1 })
                #expect(Set(hooks.map(\.id)).count == 10)
                for subject in ["a", "b"] {
                    let versions = hooks.filter { $0.data["id"] as? String == subject }.compactMap { $0.data["version"] as? Int }
                    #expect(versions == [1, 2, 3, 4, 5], "\(subject): \(versions)")
                }
            }
        }
    }

    @Test func aFailedAttemptIsSentAgainWithTheSameIDWhenTheClockReachesItsRetry() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let receiver = WebhookReceiver()
            try await receiver.run { base in
                let clock = ManualClock()
                _ = try await Self.endpoint(base + "/flaky/westminster", events: 1, pool, at: clock.now())
                try await Self.dispatching(pool, clock: clock) { @Sendable () async throws in
                    #expect(try await eventually { receiver.all.count == 2 })
                    #expect(try await eventually { try await count("webhook_deliveries WHERE status = 'pending' AND attempts = 1", pool) == 2 })
                    // Each retry is a minute away by the dispatcher's clock; moved past it, each is sent again with its id.
                    clock.advance(by: .seconds(61))
                    #expect(try await eventually { receiver.all.count == 4 })
                    #expect(try await eventually { try await count("webhook_deliveries WHERE status = 'succeeded'", pool) == 2 })
                }
                let hooks = receiver.all
                #expect(hooks.filter { $0.attempt == 1 }.count == 2 && hooks.filter { $0.attempt == 2 }.count == 2)
                #expect(Set(hooks.map(\.id)).count == 2)
            }
        }
    }
}
