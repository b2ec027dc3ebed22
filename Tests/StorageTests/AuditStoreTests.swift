import Domain
import Foundation
import LibPQ
import Storage
import TestSupport
import Testing

@Suite("Storage: the append-only, hash-chained audit log")
struct AuditStoreTests {
    private func event(_ index: Int) -> AuditEvent {
        AuditEvent(
            action: "test.event", outcome: .success, keyPrefix: "abcdefghijkl", entityType: "thing",
            entityID: String(index), requestID: "r\(index)", detailJSON: #"{"n": \#(index), "text": "Ünï '; --"}"#)
    }

    /// Records `count` rows and chains them.
    private func fill(_ store: AuditStore, count: Int) async throws {
        for index in 0..<count { try await store.record(event(index)) }
        #expect(try await store.chainPending() == count)
    }

    @Test func recordedRowsWaitUntilChainedAndReadersChainFirst() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let store = AuditStore(Database(pool: pool))
            for index in 0..<3 { try await store.record(event(index)) }
            let (pending, chained) = (try await count("audit_pending", pool), try await count("audit_log", pool))
            #expect(pending == 3 && chained == 0)
            let page = try await store.list(organisationID: nil, action: nil, page: PageRequest(limit: 10, cursor: nil))
            #expect(page.items.map(\.seq) == [3, 2, 1])
            #expect(page.items.map(\.event.entityID) == ["2", "1", "0"])
            let left = try await count("audit_pending", pool)
            #expect(left == 0)
        }
    }

    @Test func aRowRecordedInATransactionThatRollsBackNeverAppears() async throws {
        try await TestDatabase.withFresh { pool, _ in
            struct Abandon: Error {}
            await #expect(throws: Abandon.self) {
                try await pool.withTransaction { transaction in
                    try await transaction.recordAudit(self.event(1))
                    throw Abandon()
                }
            }
            try await pool.withTransaction { transaction in try await transaction.recordAudit(self.event(2)) }
            let page = try await AuditStore(Database(pool: pool)).list(organisationID: nil, action: nil, page: PageRequest(limit: 10, cursor: nil))
            #expect(page.items.map(\.event.entityID) == ["2"])
        }
    }

    @Test func appendsChainAndVerify() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let store = AuditStore(Database(pool: pool))
            let empty = try await store.verify()
            #expect(empty.isValid && empty.checked == 0)
            try await fill(store, count: 25)
            let verification = try await store.verify()
            #expect(verification.isValid && verification.checked == 25)
            let page = try await store.list(organisationID: nil, action: "test.event", page: PageRequest(limit: 10, cursor: nil))
            #expect(page.items.map(\.seq) == Array((16...25).reversed()))
            #expect(page.items.first?.event.detailJSON.contains("Ünï '; --") == true)
        }
    }

    @Test func theDatabaseRefusesUpdatesAndDeletes() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let store = AuditStore(Database(pool: pool))
            try await fill(store, count: 3)
            for statement in ["UPDATE audit_log SET action = 'x' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 3", "TRUNCATE audit_log"] {
                let error = try await #require(throws: PostgresError.self) { try await pool.withConnection { try await $0.query(statement) } }
                #expect(error.sqlState == "42501", "\(statement)")
            }
            let verification = try await store.verify()
            #expect(verification.isValid && verification.checked == 3)
        }
    }

    @Test(arguments: [
        ("UPDATE audit_log SET action = 'innocent' WHERE seq = 4", 4, "contents"),
        ("UPDATE audit_log SET detail = '{\"n\": 99}' WHERE seq = 6", 6, "contents"),
        ("DELETE FROM audit_log WHERE seq = 5", 5, "missing"),
        ("UPDATE audit_log SET hash = sha256(hash) WHERE seq = 7", 7, "contents"),
    ])
    func verifyNamesTheFirstRowASuperuserTamperedWith(tamper: String, brokenSeq: Int, reason: String) async throws {
        try await TestDatabase.withFresh { pool, _ in
            let store = AuditStore(Database(pool: pool))
            try await fill(store, count: 10)
            try await pool.withTransaction { transaction in
                try await transaction.query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
                try await transaction.query(tamper)
                try await transaction.query("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
            }
            let verification = try await store.verify()
            #expect(verification.firstBrokenSeq == brokenSeq)
            #expect(verification.reason?.contains(reason) == true)
        }
    }

    @Test func concurrentRecordersAndChainersFormOneUnbrokenChain() async throws {
        try await TestDatabase.withFresh(maxConnections: 12) { pool, _ in
            let store = AuditStore(Database(pool: pool))
            let chainedWhileRecording = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        try await store.record(AuditEvent(action: "concurrent", outcome: .success, entityID: String(index)))
                        return 0
                    }
                }
                // Four chainers, as four server instances would run, racing the recorders and each other.
                for _ in 0..<4 {
                    group.addTask { try await store.chainPending(batch: 7) }
                }
                return try await group.reduce(0, +)
            }
            let rest = try await store.chainPending()
            #expect(chainedWhileRecording + rest == 200)
            let verification = try await store.verify()
            #expect(verification.isValid && verification.checked == 200)
            let ids = try await pool.withConnection {
                try await $0.query("SELECT count(DISTINCT entity_id) FROM audit_log")[0].decode(0, as: Int.self)
            }
            #expect(ids == 200)
        }
    }
}
