import Domain
import Foundation
import LibPQ
import Storage
import TestSupport
import Testing

/// The event log partners walk with a cursor (`GET /v1/events`), against the real database.
@Suite("Storage: the event log")
struct EventStoreTests {
    static let organisation = UUID(uuidString: "39f0efa5-39b0-171a-600e-9c488329159e")!

    /// Writes an event for `organisation` in the transaction `connection` is in; returns its position.
    static func write(_ name: String, on connection: PostgresConnection) async throws -> Int {
        try await connection.query(
            "INSERT INTO events (type, subject, sequence, audience, payload) VALUES ('camera.updated', $1, 1, ARRAY[$2::uuid], '{}') RETURNING position",
            "camera/" + name, organisation
        )[0].decode(0)
    }

    static func walk(_ store: EventStore, after cursor: String?) async throws -> (items: [StoredEvent], next: Cursor) {
        try await store.list(for: organisation, includeCovert: false, page: PageRequest(limit: 10, cursor: cursor))
    }

    @Test func anEventWhoseTransactionTookALowerPositionAndCommittedLastIsNotSkipped() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let store = EventStore(Database(pool: pool))
            let (lower, higher, first) = try await pool.withConnection { late in
                try await late.query("BEGIN")
                let lower = try await Self.write("late", on: late)
                let higher = try await pool.withConnection { early in
                    try await early.query("BEGIN")
                    let position = try await Self.write("early", on: early)
                    try await early.query("COMMIT")
                    return position
                }
                // The higher position is committed and the lower is not: a walk by position would show the higher
                // now and never the lower. The log shows neither until the lower one's transaction ends.
                let committed: [Int] = try await pool.withConnection { reader in
                    try await reader.query("SELECT position FROM events ORDER BY position").map { try $0.decode(0) }
                }
                #expect(lower < higher && committed == [higher])
                let first = try await Self.walk(store, after: nil)
                #expect(first.items.isEmpty)
                try await late.query("COMMIT")
                return (lower, higher, first)
            }
            // Walking on from where the first page ended finds both, once each, the lower first.
            var page = try await Self.walk(store, after: first.next.encoded)
            #expect(
                try await eventually { () async throws -> Bool in
                    page = try await Self.walk(store, after: first.next.encoded)
                    return page.items.count == 2
                })
            #expect(page.items.map(\.position) == [lower, higher])
            let again = try await Self.walk(store, after: page.next.encoded)
            #expect(again.items.isEmpty && again.next == page.next)
        }
    }

    @Test func aCursorIssuedBeforeTheLogKeptTransactionsResumesAfterItsPosition() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let store = EventStore(Database(pool: pool))
            let positions = try await pool.withConnection { connection in
                [try await Self.write("a", on: connection), try await Self.write("b", on: connection), try await Self.write("c", on: connection)]
            }
            var page = try await Self.walk(store, after: Cursor(key: [String(positions[0])]).encoded)
            #expect(
                try await eventually { () async throws -> Bool in
                    page = try await Self.walk(store, after: Cursor(key: [String(positions[0])]).encoded)
                    return page.items.count == 2
                })
            #expect(page.items.map(\.position) == Array(positions.dropFirst()))
            await #expect(throws: ValidationError.self) { try await Self.walk(store, after: Cursor(key: ["x", "1"]).encoded) }
        }
    }
}
