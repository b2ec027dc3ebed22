import Foundation
import LibPQ
import Synchronization
import TestSupport
import Testing

@Suite("LibPQ: statements, transactions, errors and the pool")
struct PoolTests {
    @Test func injectionStringsReachTheDatabaseAsValuesOnly() async throws {
        try await TestDatabase.withFresh(migrated: false) { pool, _ in
            try await pool.withConnection { connection in
                try await connection.query("CREATE TABLE notes (body text)")
                for attack in ["'; DROP TABLE notes; --", "1 OR 1=1", "$1", "\\x00", "Robert'); DELETE FROM notes;--"] {
                    try await connection.query("INSERT INTO notes (body) VALUES ($1)", attack)
                    let echoed: String = try await connection.query("SELECT $1::text", attack)[0].decode(0)
                    #expect(echoed == attack)
                }
                let count: Int = try await connection.query("SELECT count(*) FROM notes")[0].decode(0)
                #expect(count == 5)
            }
        }
    }

    @Test func textHoldingNULIsRefusedRatherThanCutShort() async throws {
        try await TestDatabase.withFresh(migrated: false) { pool, _ in
            for value in ["\u{0}", "before\u{0}after", "ok"] {
                if value == "ok" {
                    let echoed: String = try await pool.withConnection { try await $0.query("SELECT $1::text", value)[0].decode(0) }
                    #expect(echoed == "ok")
                    continue
                }
                let error = try await #require(throws: PostgresError.self) {
                    try await pool.withConnection { try await $0.query("SELECT $2::text", 1, value) }
                }
                #expect(error.code == .invalidParameter && error.isUnstorableText)
                #expect(error.description.contains("$2"))
                #expect(!error.description.contains("before"))
            }
        }
    }

    @Test func serverErrorsCarrySQLStateButNeverSQLOrValues() async throws {
        try await TestDatabase.withFresh(migrated: false) { pool, _ in
            let secret = "not-a-uuid-secret-value-4711"
            let error = try await #require(throws: PostgresError.self) {
                try await pool.withConnection { try await $0.query("SELECT $1::uuid AS hidden_statement_text", secret) }
            }
            #expect(error.code == .server)
            #expect(error.sqlState == "22P02")
            #expect(!error.description.contains(secret))
            #expect(!error.debugDescription.contains(secret))
            #expect(!error.description.contains("hidden_statement_text"))
            #expect(!"\(error)".contains("SELECT"))

            try await pool.withConnection { try await $0.query("CREATE TABLE codes (code text CONSTRAINT codes_code_key UNIQUE)") }
            try await pool.withConnection { try await $0.query("INSERT INTO codes VALUES ($1)", "E09000001") }
            let duplicate = try await #require(throws: PostgresError.self) {
                try await pool.withConnection { try await $0.query("INSERT INTO codes VALUES ($1)", "E09000001") }
            }
            #expect(duplicate.sqlState == SQLState.uniqueViolation)
            #expect(duplicate.constraint == "codes_code_key")
            #expect(!duplicate.description.contains("E09000001"))
        }
    }

    @Test func connectionErrorsNeverContainThePassword() async throws {
        let password = "pw-\(UUID().uuidString)"
        let url = TestDatabase.adminURL.replacingOccurrences(of: "user=sightline", with: "user=nobody_here&password=\(password)")
        let pool = try TestDatabase.makePool(url: url, maxConnections: 1)
        let error = try await #require(throws: PostgresError.self) { try await pool.withConnection { try await $0.query("SELECT 1") } }
        #expect(error.code == .connectionFailed)
        #expect(error.isUnavailable)
        #expect(!error.description.contains(password))
        await pool.close()

        let malformed = try #require(throws: PostgresError.self) {
            try PostgresConnectionSettings("postgresql://u:\(password)@host:notaport/db?x=%zz")
        }
        #expect(!malformed.description.contains(password))
    }

    @Test func aRolledBackTransactionLeavesNothing() async throws {
        try await TestDatabase.withFresh(migrated: false) { pool, _ in
            try await pool.withConnection { try await $0.query("CREATE TABLE events (n int)") }
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await pool.withTransaction { transaction in
                    try await transaction.query("INSERT INTO events VALUES ($1)", Int32(1))
                    try await transaction.query("INSERT INTO events VALUES ($1)", Int32(2))
                    throw Boom()
                }
            }
            // A failed statement also rolls back everything before it.
            await #expect(throws: PostgresError.self) {
                try await pool.withTransaction { transaction in
                    try await transaction.query("INSERT INTO events VALUES ($1)", Int32(3))
                    try await transaction.query("INSERT INTO events VALUES ($1::int)", "three")
                }
            }
            try await pool.withTransaction { try await $0.query("INSERT INTO events VALUES ($1)", Int32(4)) }
            let rows = try await pool.withConnection { try await $0.query("SELECT n FROM events") }
            #expect(try rows.map { try $0.decode(0, as: Int.self) } == [4])
            // The connection went back to the pool clean: no transaction left open.
            let openTransactions: Int = try await pool.withConnection {
                try await $0.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
                )[0].decode(0)
            }
            #expect(openTransactions == 0)
        }
    }

    @Test func serializationFailuresAreRetriedWhenAskedFor() async throws {
        try await TestDatabase.withFresh(maxConnections: 4, migrated: false) { pool, _ in
            try await pool.withConnection { connection in
                try await connection.query("CREATE TABLE counter (n int)")
                try await connection.query("INSERT INTO counter VALUES (0)")
            }
            let attempts = Tally()
            let bothRead = Barrier(parties: 2)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await pool.withTransaction(.serializable, retryOnSerializationFailure: true) { transaction in
                            let attempt = attempts.increment()
                            let n: Int = try await transaction.query("SELECT n FROM counter")[0].decode(0)
                            // On the first two attempts, make both transactions read before either writes: a
                            // guaranteed read-write conflict.
                            if attempt <= 2 { await bothRead.arrive() }
                            try await transaction.query("UPDATE counter SET n = $1", n + 1)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let final: Int = try await pool.withConnection { try await $0.query("SELECT n FROM counter")[0].decode(0) }
            #expect(final == 2)
            #expect(attempts.value >= 3)

            // Without the retry, the same conflict surfaces as SQLSTATE 40001.
            let again = Barrier(parties: 2)
            let outcomes = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        do {
                            try await pool.withTransaction(.serializable) { transaction in
                                let n: Int = try await transaction.query("SELECT n FROM counter")[0].decode(0)
                                await again.arrive()
                                try await transaction.query("UPDATE counter SET n = $1", n + 1)
                            }
                            return nil
                        } catch let error as PostgresError {
                            return error.sqlState
                        }
                    }
                }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(outcomes.contains(SQLState.serializationFailure))
        }
    }

    @Test func anExhaustedPoolTimesOutWithAClearError() async throws {
        try await TestDatabase.withFresh(migrated: false) { _, url in
            let pool = try TestDatabase.makePool(url: url, maxConnections: 1, acquireTimeout: .milliseconds(300))
            let holding = Barrier(parties: 2)
            let release = Barrier(parties: 2)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await pool.withConnection { _ in
                        await holding.arrive()
                        await release.arrive()
                    }
                }
                await holding.arrive()
                #expect(pool.statistics.inUse == 1)
                let error = try await #require(throws: PostgresError.self) { try await pool.withConnection { _ in } }
                #expect(error.code == .poolTimeout)
                #expect(error.description.contains("timed out waiting for a connection"))
                #expect(pool.statistics.waiting == 0)
                await release.arrive()
                try await group.waitForAll()
            }
            // Once returned, the connection is lent again.
            #expect(try await pool.withConnection { try await $0.query("SELECT 7")[0].decode(0, as: Int.self) } == 7)
            await pool.close()
        }
    }

    @Test func waitingBorrowersAreServedInTurnAndTheLimitHolds() async throws {
        try await TestDatabase.withFresh(migrated: false) { _, url in
            let pool = try TestDatabase.makePool(url: url, maxConnections: 3, acquireTimeout: .seconds(30))
            let current = Tally()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        try await pool.withConnection { connection in
                            _ = current.increment()
                            try await connection.query("SELECT pg_sleep(0.01)")
                            current.decrement()
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(current.peak <= 3)
            #expect(current.peak >= 2)
            #expect(pool.statistics.open <= 3)
            let backends: Int = try await pool.withConnection {
                try await $0.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")[0].decode(0)
            }
            #expect(backends <= 3)
            await pool.close()
            await #expect(throws: PostgresError.self) { try await pool.withConnection { _ in } }
        }
    }

    @Test func thePoolRecoversAfterTheServerRestarts() async throws {
        let cluster = try TemporaryCluster()
        defer { cluster.destroy() }
        let pool = try TestDatabase.makePool(url: cluster.url, maxConnections: 3)
        // Open several connections so that every one of them goes stale in the restart.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { _ = try await pool.withConnection { try await $0.query("SELECT pg_sleep(0.05)") } } }
            try await group.waitForAll()
        }
        #expect(pool.statistics.open == 3)
        let before: Int32 = try await pool.withConnection { try await $0.query("SELECT pg_backend_pid()")[0].decode(0) }

        try cluster.restart()

        let after: Int32 = try await pool.withConnection { try await $0.query("SELECT pg_backend_pid()")[0].decode(0) }
        #expect(after != before)
        for _ in 0..<5 { #expect(try await pool.withConnection { try await $0.query("SELECT 1")[0].decode(0, as: Int.self) } == 1) }

        // While the server is down, borrowers get a clean "unavailable" error, and the pool comes back with it.
        try cluster.stop()
        let error = try await #require(throws: PostgresError.self) { try await pool.withConnection { try await $0.query("SELECT 1") } }
        #expect(error.isUnavailable)
        try cluster.start()
        #expect(try await pool.withConnection { try await $0.query("SELECT 2")[0].decode(0, as: Int.self) } == 2)
        await pool.close()
    }
}

/// Lets `parties` tasks wait until all of them have arrived.
actor Barrier {
    private let parties: Int
    private var arrived = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(parties: Int) { self.parties = parties }

    func arrive() async {
        arrived += 1
        if arrived >= parties {
            for continuation in waiting { continuation.resume() }
            waiting = []
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}

/// A counter shared between tasks that remembers its highest value.
final class Tally: Sendable {
    private let state = Mutex((value: 0, peak: 0))

    var value: Int { state.withLock { $0.value } }
    var peak: Int { state.withLock { $0.peak } }

    func increment() -> Int {
        state.withLock { state in
            state.value += 1
            state.peak = max(state.peak, state.value)
            return state.value
        }
    }

    func decrement() { state.withLock { $0.value -= 1 } }
}
