import Foundation
import LibPQ
import TestSupport
import Testing

@Suite("LibPQ: LISTEN/NOTIFY on a dedicated connection")
struct ListenerTests {
    @Test func notificationsArriveAndSurviveAServerRestart() async throws {
        let cluster = try TemporaryCluster()
        defer { cluster.destroy() }
        let settings = try PostgresConnectionSettings(cluster.url)
        let listener = try PostgresListener(settings: settings, channels: ["sightline_outbox"], logger: TestDatabase.logger)
        let pool = try TestDatabase.makePool(url: cluster.url, maxConnections: 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await listener.run() }
            var events = listener.events.makeAsyncIterator()
            #expect(await events.next() == .listening)

            try await pool.withConnection { try await $0.query("SELECT pg_notify($1, $2)", "sightline_outbox", "event 1") }
            guard case .notification(let first) = await events.next() else {
                Issue.record("expected a notification")
                return
            }
            #expect(first.channel == "sightline_outbox")
            #expect(first.payload == "event 1")

            // Another channel is not heard.
            try await pool.withConnection { try await $0.query("SELECT pg_notify($1, $2)", "other_channel", "ignored") }

            try cluster.restart()
            #expect(await events.next() == .listening)
            try await pool.withConnection { try await $0.query("SELECT pg_notify($1, $2)", "sightline_outbox", "event 2") }
            guard case .notification(let second) = await events.next() else {
                Issue.record("expected a notification")
                return
            }
            #expect(second.payload == "event 2")
            group.cancelAll()
        }
        await pool.close()
    }

    @Test func channelNamesMustBePlainIdentifiers() throws {
        let settings = try PostgresConnectionSettings(TestDatabase.adminURL)
        for bad in ["", "Upper", "semi;colon", "with space", "1starts_with_digit", String(repeating: "a", count: 64)] {
            #expect(throws: PostgresError.self) { try PostgresListener(settings: settings, channels: [bad], logger: TestDatabase.logger) }
        }
    }
}
