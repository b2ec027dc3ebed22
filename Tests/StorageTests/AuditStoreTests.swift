import Domain
import Foundation
import LibPQ
import Storage
import Testing
import TestSupport

@Suite("Storage: the append-only, hash-chained audit log")
struct AuditStoreTests {
    private func fill(_ store: AuditStore, count: Int) async throws {
        for index in 0..<count {
            try await store.append(
                AuditEvent(action: "test.event", outcome: .success, keyPrefix: "abcdefghijkl", entityType: "thing",
                           entityID: String(index), requestID: "r\(index)", detailJSON: #"{"n": \#(index), "text": "Ünï '; --"}"#)
            )
        }
    }

    @Test func appendsChainAndVerify() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let store = AuditStore(pool: pool)
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
            let store = AuditStore(pool: pool)
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
            let store = AuditStore(pool: pool)
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

    @Test func concurrentAppendsFormOneUnbrokenChain() async throws {
        try await TestDatabase.withFresh(maxConnections: 8) { pool, _ in
            let store = AuditStore(pool: pool)
            let numbers = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<200 {
                    group.addTask { try await store.append(AuditEvent(action: "concurrent", outcome: .success, entityID: String(index))) }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(numbers.sorted() == Array(1...200))
            let verification = try await store.verify()
            #expect(verification.isValid && verification.checked == 200)
        }
    }
}
