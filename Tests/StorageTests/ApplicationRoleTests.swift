import Domain
import Foundation
import LibPQ
import Storage
import TestSupport
import Testing

/// What the server's own database role (`sightline_server`, a member of `sightline_app`) may and may not do.
@Suite("Storage: the application's database role")
struct ApplicationRoleTests {
    /// Statements the application role must be refused (SQLSTATE 42501), whatever triggers exist.
    static let refused: [String] = [
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "INSERT INTO audit_log SELECT * FROM audit_log LIMIT 1",
        "UPDATE audit_chain_head SET seq = 0",
        "SELECT * FROM audit_pending",
        "INSERT INTO audit_pending (occurred_at, action, outcome) VALUES (now(), 'forged', 'success')",
        "DELETE FROM audit_pending",
        "UPDATE organisations SET name = 'x'",
        "INSERT INTO boroughs (gss_code, name, organisation_id) SELECT 'E09000099', 'x', organisation_id FROM boroughs LIMIT 1",
        "DELETE FROM api_keys",
        "UPDATE schema_migrations SET checksum = 'x'",
        "CREATE TABLE intruder (id int)",
        "DROP TABLE audit_log",
    ]

    /// Statements the application role must be allowed.
    static let allowed: [String] = [
        "SELECT count(*) FROM organisations",
        "SELECT count(*) FROM api_keys",
        "SELECT count(*) FROM audit_log",
        "SELECT audit_record('abcdefghijkl', NULL, 'role.test', NULL, NULL, 'success', '127.0.0.1', 'r', '{}')",
        "SELECT audit_chain(10)",
        "SELECT count(*) FROM idempotency_keys",
    ]

    private func withServerRole(_ body: (PostgresPool, PostgresPool) async throws -> Void) async throws {
        try await TestDatabase.withFresh { owner, url in
            let server = try TestDatabase.makePool(url: TestDatabase.serverURL(url), maxConnections: 1)
            do {
                try await body(owner, server)
                await server.close()
            } catch {
                await server.close()
                throw error
            }
        }
    }

    @Test(arguments: refused)
    func refusesTheApplicationRole(_ statement: String) async throws {
        try await withServerRole { _, server in
            let error = try await #require(throws: PostgresError.self) { try await server.withConnection { try await $0.query(statement) } }
            #expect(error.sqlState == "42501")
        }
    }

    @Test func allowsWhatTheServerNeeds() async throws {
        try await withServerRole { _, server in
            for statement in Self.allowed {
                try await server.withConnection { _ = try await $0.query(statement) }
            }
            let chained = try await server.withConnection { try await $0.query("SELECT action FROM audit_log")[0].decode(0, as: String.self) }
            #expect(chained == "role.test")
        }
    }

    /// A new table without a grant would break the server only in production; this catches it here. Tables the
    /// application must reach only through functions are listed.
    @Test func everyTableIsGrantedToTheApplicationOrDeliberatelyNot() async throws {
        try await withServerRole { owner, _ in
            let ungranted: [String] = try await owner.withConnection { connection in
                try await connection.query(
                    """
                    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'spatial_ref_sys'
                      AND NOT has_table_privilege('sightline_app', c.oid, 'SELECT')
                    ORDER BY 1
                    """
                ).map { try $0.decode(0) }
            }
            #expect(ungranted == ["audit_chain_head", "audit_pending"])
        }
    }
}
