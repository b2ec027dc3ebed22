import Domain
import Foundation
import LibPQ
import Storage
import TestSupport
import Testing

/// The evidence store against the real database, without HTTP: what a request writes, how a task moves, and the
/// alerts a moved clock brings due.
@Suite("Storage: evidence requests and tasks")
struct EvidenceStoreTests {
    static let westminster = UUID(uuidString: "39f0efa5-39b0-171a-600e-9c488329159e")!
    static let mps = UUID(uuidString: "714c89a3-07f6-77ba-9c60-c9093f4e6a7f")!
    static let place = Location(lat: 51.50095, lon: -0.12655)

    /// Westminster's room with two cameras at `place`, and a covert MPS camera there too.
    static func world(_ pool: PostgresPool) async throws {
        try await pool.withConnection { connection in
            let room: UUID = try await connection.query(
                "INSERT INTO control_rooms (operator_org_id, name) VALUES ($1, 'Westminster CCTV') RETURNING id", westminster
            )[0].decode(0)
            try await connection.query(
                """
                INSERT INTO cameras (owner_org_id, control_room_id, kind, location, covert)
                SELECT o, r, 'fixed', ST_SetSRID(ST_MakePoint($4, $3), 4326)::geography, c
                FROM (VALUES ($1::uuid, $2::uuid, false), ($1, $2, false), ($5, NULL, true)) AS v(o, r, c)
                """,
                westminster, room, place.lat, place.lon, mps
            )
        }
    }

    /// An urgent request for the hour that began `hoursAgo` hours before `clock`'s now.
    static func draft(_ clock: ManualClock, hoursAgo: Double) -> EvidenceRequestDraft {
        let from = clock.now().addingTimeInterval(-hoursAgo * 3600)
        return EvidenceRequestDraft(
            crimeReference: "CRIS 1/26", offence: "robbery", priority: .urgent, authorisedBy: "DS Clarke", location: place, radiusMetres: 50,
            windowFrom: from, windowTo: from.addingTimeInterval(3600)
        )
    }

    @Test func aRequestWritesItsTasksAndEventsAtTheClocksTimeAndReadsBackAsReturned() async throws {
        try await TestDatabase.withFresh { pool, _ in
            try await Self.world(pool)
            let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000.123456))
            let store = EvidenceStore(Database(pool: pool, clock: clock))
            let detail = try await store.create(
                Self.draft(clock, hoursAgo: 2), requesterOrganisationID: Self.mps, requesterKeyID: nil, visibility: .all, sla: .standard,
                actor: .commandLine("test")
            )
            // One task for Westminster's room (two cameras), one for the MPS's covert camera; deadlines from the clock.
            #expect(detail.tasks.count == 2 && detail.tasks.map(\.cameras.count).sorted() == [1, 2])
            #expect(detail.request.createdAt == clock.now())
            #expect(detail.tasks.allSatisfy { $0.ackDueAt == clock.now().addingTimeInterval(3600) })
            #expect(try await store.request(id: detail.request.id, organisationID: Self.mps, visibility: .all) == detail)
            // The requester without covert access sees neither the covert task nor its camera.
            let plain = try #require(try await store.request(id: detail.request.id, organisationID: Self.mps, visibility: .none))
            #expect(plain.tasks.count == 1 && plain.tasks[0].holder.organisationID == Self.westminster)
            // The events: written at the clock's time, their booleans booleans, the covert task's marked covert.
            let events: [(type: String, created: Date, atRisk: String?, covert: Bool)] = try await pool.withConnection { connection in
                try await connection.query("SELECT type, created_at, jsonb_typeof(payload -> 'at_risk'), covert FROM events ORDER BY position")
                    .map { (try $0.decode(0), try $0.decode(1), try $0.decode(2), try $0.decode(3)) }
            }
            #expect(events.map(\.type) == ["evidence_request.created", "evidence_task.created", "evidence_task.created"])
            #expect(events.allSatisfy { $0.created == clock.now() })
            #expect(events.dropFirst().allSatisfy { $0.atRisk == "boolean" })
            #expect(events.filter(\.covert).count == 1)
        }
    }

    @Test func aMoveNeedsTheCurrentVersionAndSettlesTheRequest() async throws {
        try await TestDatabase.withFresh { pool, _ in
            try await Self.world(pool)
            let clock = ManualClock()
            let store = EvidenceStore(Database(pool: pool, clock: clock))
            let detail = try await store.create(
                Self.draft(clock, hoursAgo: 2), requesterOrganisationID: Self.mps, requesterKeyID: nil, visibility: .none, sla: .standard,
                actor: .commandLine("test")
            )
            let task = try #require(detail.tasks.first)
            let move = EvidenceTaskMove(action: .acknowledge)
            await #expect(throws: PreconditionFailure.self) {
                try await store.transition(
                    taskID: task.id, expectedVersion: 7, to: .acknowledged, move: move, holdUntil: nil, keyID: nil, actor: .commandLine("test")
                )
            }
            clock.advance(by: .seconds(600))
            let acknowledged = try #require(
                try await store.transition(
                    taskID: task.id, expectedVersion: 1, to: .acknowledged, move: move, holdUntil: nil, keyID: nil, actor: .commandLine("test")
                )
            )
            #expect(acknowledged.status == .acknowledged && acknowledged.version == 2 && acknowledged.acknowledgedAt == clock.now())
            let cancelled = try #require(
                try await store.cancel(
                    requestID: detail.request.id, organisationID: Self.mps, expectedVersion: 1, notes: "found elsewhere", visibility: .none,
                    actor: .commandLine("test")
                )
            )
            #expect(cancelled.request.status == .cancelled && cancelled.tasks.allSatisfy { $0.status == .cancelled })
            #expect(try await count("events WHERE type = 'evidence_request.cancelled'", pool) == 1)
        }
    }

    @Test func alertsFallDueAsTheClockMovesAndAreRaisedOnce() async throws {
        try await TestDatabase.withFresh { pool, _ in
            try await Self.world(pool)
            let clock = ManualClock()
            let store = EvidenceStore(Database(pool: pool, clock: clock))
            // Footage of 30½ days ago: overwritten (31 days' retention) in twelve hours.
            _ = try await store.create(
                Self.draft(clock, hoursAgo: 30 * 24 + 12), requesterOrganisationID: Self.mps, requesterKeyID: nil, visibility: .none, sla: .standard,
                actor: .commandLine("test")
            )
            #expect(try await store.raiseAlerts(now: clock.now()) == 1)  // within 24 h of overwrite
            #expect(try await store.raiseAlerts(now: clock.now()) == 0)
            clock.advance(by: .seconds(3601))  // the hour to acknowledge an urgent task has passed
            #expect(try await store.raiseAlerts(now: clock.now()) == 1)
            clock.advance(by: .seconds(9 * 3600))  // two hours before overwrite
            #expect(try await store.raiseAlerts(now: clock.now()) == 1)
            #expect(try await count("events WHERE type = 'evidence_task.at_risk'", pool) == 2)
            #expect(try await count("events WHERE type = 'evidence_task.sla_breached'", pool) == 1)
        }
    }
}
