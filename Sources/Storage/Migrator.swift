import Crypto
import Foundation
import LibPQ
import Logging

/// One schema migration: a forward-only SQL file `NNNN_name.sql` from `db/migrations`.
public struct Migration: Sendable, Hashable {
    /// The number that orders it.
    public let version: Int
    /// The file name.
    public let name: String
    /// The SQL it runs.
    public let sql: String
    /// SHA-256 of the SQL, in hex; an applied migration whose file changed is refused.
    public let checksum: String

    /// A migration from its file name and contents; the name must be `NNNN_words.sql`.
    public init(fileName: String, sql: String) throws(MigrationError) {
        let stem = fileName.hasSuffix(".sql") ? String(fileName.dropLast(4)) : ""
        guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0,
            stem[..<underscore].allSatisfy(\.isASCII), stem.index(after: underscore) < stem.endIndex
        else { throw MigrationError("\(fileName) is not named NNNN_name.sql") }
        self.version = version
        self.name = fileName
        self.sql = sql
        self.checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The migrations built into this binary from `db/migrations`, in order; throws if a file is misnamed.
    public static func bundled() throws(MigrationError) -> [Migration] {
        var migrations: [Migration] = []
        for file in EmbeddedFiles.all { migrations.append(try Migration(fileName: file.name, sql: file.contents)) }
        return migrations
    }
}

/// Why the schema cannot be migrated or used.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String

    /// An error that says `description`.
    public init(_ description: String) { self.description = description }
}

/// How the database's schema compares with the migrations this build carries.
public enum SchemaStatus: Sendable, Hashable {
    /// Every migration is applied and none changed.
    case current
    /// Some migrations are not applied yet; `sightline migrate` applies them.
    case behind(pending: [String])
    /// An applied migration's file differs from the one that was applied.
    case modified(name: String)
    /// The database has migrations this build does not know: it is newer than this build.
    case ahead(unknown: [Int])

    /// A sentence for operators.
    public var explanation: String {
        switch self {
        case .current: "current"
        case .behind(let pending): "behind: \(pending.count) migration(s) not applied (\(pending.joined(separator: ", "))); run `sightline migrate`"
        case .modified(let name): "migration \(name) changed after it was applied; restore the applied file and add a new migration instead"
        case .ahead(let unknown):
            "the database has migration(s) \(unknown.map(String.init).joined(separator: ", ")) that this build does not know; deploy a newer build"
        }
    }
}

/// Applies migrations in order, each in its own transaction, recording each with its checksum.
///
/// A session-level advisory lock keeps two instances from migrating at once: the second waits, then finds
/// nothing left to do.
public struct Migrator: Sendable {
    /// The migrations to apply, in version order.
    public let migrations: [Migration]
    private let logger: Logger

    /// The advisory lock key: the bytes of "sightmig".
    static let lockKey: Int64 = 0x7369_6768_746D_6967

    /// A migrator for `migrations` (by default the ones built into this binary).
    public init(migrations: [Migration]? = nil, logger: Logger) throws(MigrationError) {
        let given: [Migration]
        if let migrations { given = migrations } else { given = try Migration.bundled() }
        let sorted = given.sorted { $0.version < $1.version }
        for (earlier, later) in zip(sorted, sorted.dropFirst()) where earlier.version == later.version {
            throw MigrationError("\(earlier.name) and \(later.name) have the same number")
        }
        self.migrations = sorted
        self.logger = logger
    }

    /// Applies every migration not yet applied and returns the names of those it applied.
    @discardableResult
    public func migrate(_ database: Database) async throws -> [String] {
        try await database.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock($1)", Self.lockKey)
            do {
                let applied = try await apply(on: connection)
                try await connection.query("SELECT pg_advisory_unlock($1)", Self.lockKey)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock($1)", Self.lockKey)
                throw error
            }
        }
    }

    /// Compares the database's schema with this migrator's migrations, changing nothing.
    public func status(_ database: Database) async throws -> SchemaStatus {
        try await database.withConnection { connection in
            let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
            guard try exists[0].decode(0, as: Bool.self) else { return .behind(pending: migrations.map(\.name)) }
            return try compare(try await appliedMigrations(connection))
        }
    }

    private func apply(on connection: PostgresConnection) async throws -> [String] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        let applied = try await appliedMigrations(connection)
        let status = try compare(applied)
        switch status {
        case .current: return []
        case .modified, .ahead: throw MigrationError(status.explanation)
        case .behind: break
        }
        let done = Set(applied.keys)
        var appliedNow: [String] = []
        for migration in migrations where !done.contains(migration.version) {
            try await connection.query("BEGIN")
            do {
                try await connection.runScript(migration.sql)
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version, migration.name, migration.checksum
                )
                try await connection.query("COMMIT")
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw MigrationError("\(migration.name) failed and was rolled back: \(error)")
            }
            logger.info("applied migration", metadata: ["migration": "\(migration.name)"])
            appliedNow.append(migration.name)
        }
        return appliedNow
    }

    private func appliedMigrations(_ connection: PostgresConnection) async throws -> [Int: (name: String, checksum: String)] {
        var applied: [Int: (name: String, checksum: String)] = [:]
        for row in try await connection.query("SELECT version, name, checksum FROM schema_migrations") {
            applied[try row.decode(0)] = (try row.decode(1), try row.decode(2))
        }
        return applied
    }

    private func compare(_ applied: [Int: (name: String, checksum: String)]) throws -> SchemaStatus {
        let known = Set(migrations.map(\.version))
        let unknown = applied.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty { return .ahead(unknown: unknown) }
        for migration in migrations {
            if let record = applied[migration.version], record.checksum != migration.checksum {
                return .modified(name: migration.name)
            }
        }
        let pending = migrations.filter { applied[$0.version] == nil }.map(\.name)
        return pending.isEmpty ? .current : .behind(pending: pending)
    }
}
