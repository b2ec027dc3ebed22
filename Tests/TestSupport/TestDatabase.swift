import Foundation
import LibPQ
import Logging
import Storage

/// Databases for tests on the PostgreSQL cluster `make test` starts (`SIGHTLINE_TEST_DATABASE_URL`).
///
/// Each test gets a database of its own, cloned from a template that is migrated once per test process, and
/// dropped when the test ends.
public enum TestDatabase {
    /// The URL of the test cluster's administrative database.
    public static var adminURL: String {
        guard let url = ProcessInfo.processInfo.environment["SIGHTLINE_TEST_DATABASE_URL"] else {
            preconditionFailure("SIGHTLINE_TEST_DATABASE_URL is not set: run the tests with `make test`")
        }
        return url
    }

    /// A logger that drops everything below warning, to keep test output readable.
    public static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }()

    private static let registry = Registry()

    /// Runs `body` with a pool on a new migrated database, and drops the database afterwards.
    public static func withFresh<T>(
        maxConnections: Int = 4,
        migrated: Bool = true,
        _ body: (PostgresPool, String) async throws -> T
    ) async throws -> T {
        let name = try await registry.create(migrated: migrated)
        let url = databaseURL(adminURL, database: name)
        // Tests check what happens, not how long waiting for a connection takes (PoolTests time that out on
        // purpose): with every suite running at once on two cores, a test that queues 200 tasks on 12
        // connections has been seen to wait more than 5 s.
        let pool = try makePool(url: url, maxConnections: maxConnections, acquireTimeout: .seconds(30))
        do {
            let value = try await body(pool, url)
            await pool.close()
            try await registry.drop(name)
            return value
        } catch {
            await pool.close()
            try? await registry.drop(name)
            throw error
        }
    }

    /// A pool for `url`.
    public static func makePool(url: String, maxConnections: Int = 4, acquireTimeout: Duration = .seconds(5)) throws -> PostgresPool {
        PostgresPool(
            configuration: .init(settings: try PostgresConnectionSettings(url), maxConnections: maxConnections, acquireTimeout: acquireTimeout),
            logger: logger
        )
    }

    /// `url` for the role the server connects as, `sightline_server` (see `scripts/pg.sh`).
    public static func serverURL(_ url: String) -> String {
        var components = URLComponents(string: url)!
        components.queryItems = (components.queryItems ?? []).filter { $0.name != "user" } + [URLQueryItem(name: "user", value: "sightline_server")]
        return components.string!
    }

    /// `url` with its database replaced by `database`.
    public static func databaseURL(_ url: String, database: String) -> String {
        var components = URLComponents(string: url)!
        components.path = "/" + database
        return components.string!
    }

    /// Creates and drops databases one at a time, over one administrative connection kept for the whole test
    /// process: PostgreSQL refuses to copy a template that is in use, and a connection per database would cost a
    /// connection set-up (and a backend start) for every test.
    private actor Registry {
        /// Built once; callers that arrive while it is being built await the same work (actors are reentrant).
        private var template: Task<Void, any Error>?
        private static let template = "sightline_test_template"
        /// One connection to the administrative database, opened on first use and kept.
        private var adminPool: PostgresPool?

        private func admin() throws -> PostgresPool {
            if let adminPool { return adminPool }
            let pool = try TestDatabase.makePool(url: TestDatabase.adminURL, maxConnections: 1, acquireTimeout: .seconds(60))
            adminPool = pool
            return pool
        }

        func create(migrated: Bool) async throws -> String {
            if migrated {
                let build = template ?? Task { try await self.buildTemplate() }
                template = build
                try await build.value
            }
            let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
            try await admin().withConnection { connection in
                // Identifiers cannot be parameters; `name` is generated above from hex digits only.
                try await connection.query("CREATE DATABASE " + name + " TEMPLATE " + (migrated ? Self.template : "template0"))
            }
            return name
        }

        func drop(_ name: String) async throws {
            try await admin().withConnection { connection in
                try await connection.query("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
            }
        }

        private func buildTemplate() async throws {
            try await admin().withConnection { connection in
                try await connection.query("DROP DATABASE IF EXISTS " + Self.template + " WITH (FORCE)")
                try await connection.query("CREATE DATABASE " + Self.template + " TEMPLATE template0")
            }
            let pool = try TestDatabase.makePool(url: TestDatabase.databaseURL(TestDatabase.adminURL, database: Self.template), maxConnections: 1)
            try await Migrator(logger: TestDatabase.logger).migrate(Database(pool: pool))
            await pool.close()
        }
    }
}

/// How many rows `from` holds: a table, optionally followed by a `WHERE` clause (test SQL, never user input).
public func count(_ from: String, _ pool: PostgresPool) async throws -> Int {
    try await pool.withConnection { try await $0.query("SELECT count(*) FROM " + from)[0].decode(0) }
}
