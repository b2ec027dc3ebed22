import Foundation
import LibPQ
import Storage
import TestSupport
import Testing

@Suite("Storage: migrations")
struct MigratorTests {
    private let logger = TestDatabase.logger

    @Test func appliesTheBundledMigrationsInOrderOnceOnly() async throws {
        try await TestDatabase.withFresh(migrated: false) { pool, _ in
            let migrator = try Migrator(logger: logger)
            #expect(try await migrator.status(Database(pool: pool)) == .behind(pending: migrator.migrations.map(\.name)))
            let applied = try await migrator.migrate(Database(pool: pool))
            #expect(applied == migrator.migrations.map(\.name))
            #expect(applied.first == "0001_extensions.sql")
            let recorded = try await pool.withConnection {
                try await $0.query("SELECT version, name, checksum FROM schema_migrations ORDER BY applied_at, version")
            }
            #expect(try recorded.map { try $0.decode(1, as: String.self) } == applied)
            #expect(try recorded.map { try $0.decode(2, as: String.self) } == migrator.migrations.map(\.checksum))
            #expect(try await migrator.status(Database(pool: pool)) == .current)
            // Idempotent: the second run finds nothing to do.
            #expect(try await migrator.migrate(Database(pool: pool)) == [])
        }
    }

    @Test func refusesAnAppliedMigrationWhoseFileChanged() async throws {
        try await TestDatabase.withFresh(migrated: true) { pool, _ in
            let bundled = try Migration.bundled()
            var changed = bundled
            changed[1] = try Migration(fileName: bundled[1].name, sql: bundled[1].sql + "\n-- edited after release\n")
            let migrator = try Migrator(migrations: changed, logger: logger)
            #expect(try await migrator.status(Database(pool: pool)) == .modified(name: bundled[1].name))
            let error = try await #require(throws: MigrationError.self) { try await migrator.migrate(Database(pool: pool)) }
            #expect(error.description.contains(bundled[1].name))
        }
    }

    @Test func reportsPendingAndUnknownMigrations() async throws {
        try await TestDatabase.withFresh(migrated: true) { pool, _ in
            let bundled = try Migration.bundled()
            let extra = try Migration(fileName: "9999_later.sql", sql: "CREATE TABLE later (id int);")
            let newer = try Migrator(migrations: bundled + [extra], logger: logger)
            #expect(try await newer.status(Database(pool: pool)) == .behind(pending: ["9999_later.sql"]))
            #expect(try await newer.migrate(Database(pool: pool)) == ["9999_later.sql"])
            // The database is now ahead of a build that lacks 9999.
            let older = try Migrator(migrations: bundled, logger: logger)
            #expect(try await older.status(Database(pool: pool)) == .ahead(unknown: [9999]))
            await #expect(throws: MigrationError.self) { try await older.migrate(Database(pool: pool)) }
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        try await TestDatabase.withFresh(migrated: true) { pool, _ in
            let broken = try Migration(fileName: "9000_broken.sql", sql: "CREATE TABLE half_done (id int);\nSELECT no_such_function();")
            let migrator = try Migrator(migrations: try Migration.bundled() + [broken], logger: logger)
            let error = try await #require(throws: MigrationError.self) { try await migrator.migrate(Database(pool: pool)) }
            #expect(error.description.contains("9000_broken.sql"))
            let leftovers: Bool = try await pool.withConnection {
                try await $0.query("SELECT to_regclass('half_done') IS NOT NULL OR EXISTS (SELECT 1 FROM schema_migrations WHERE version = 9000)")[0]
                    .decode(0)
            }
            #expect(!leftovers)
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        try await TestDatabase.withFresh(maxConnections: 4, migrated: false) { pool, _ in
            let migrator = try Migrator(logger: logger)
            let results = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<3 { group.addTask { try await migrator.migrate(Database(pool: pool)) } }
                return try await group.reduce(into: [[String]]()) { $0.append($1) }
            }
            #expect(results.flatMap { $0 }.sorted() == migrator.migrations.map(\.name).sorted())
            let count: Int = try await pool.withConnection { try await $0.query("SELECT count(*) FROM schema_migrations")[0].decode(0) }
            #expect(count == migrator.migrations.count)
        }
    }

    @Test(arguments: ["0001.sql", "x_name.sql", "0001_name.txt", "0_name.sql", "0001_.sql", "-1_name.sql"])
    func rejectsMisnamedFiles(name: String) {
        #expect(throws: MigrationError.self) { try Migration(fileName: name, sql: "") }
    }

    @Test func rejectsTwoMigrationsWithTheSameNumber() throws {
        let first = try Migration(fileName: "0001_a.sql", sql: "")
        let second = try Migration(fileName: "0001_b.sql", sql: "")
        #expect(throws: MigrationError.self) { try Migrator(migrations: [first, second], logger: logger) }
    }
}
