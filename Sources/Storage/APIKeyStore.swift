import Crypto
import Domain
import Foundation
import LibPQ

/// A stored API key, without its secret.
public struct APIKey: Sendable, Hashable {
    /// The key's id.
    public var id: UUID
    /// The organisation it belongs to.
    public var organisationID: UUID
    /// A name to recognise it by.
    public var name: String
    /// Its role.
    public var role: Role
    /// Whether it may see covert cameras.
    public var covertAccess: Bool
    /// The visible prefix.
    public var prefix: String
    /// When it was created.
    public var createdAt: Date
    /// When it stops working, if ever.
    public var expiresAt: Date?
    /// When it was revoked, if it was.
    public var revokedAt: Date?
    /// When it was last used, to the minute.
    public var lastUsedAt: Date?

    /// Whether the key may be used at `now`.
    public func isUsable(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { $0 > now } ?? true)
    }
}

/// API keys: creation, lookup for authentication, listing and revocation.
public struct APIKeyStore: Sendable {
    private let database: Database
    private var clock: any WallClock { database.clock }

    /// A store over `database`, reading the time from its clock.
    public init(_ database: Database) { self.database = database }

    private static let columns = "id, organisation_id, name, role, covert_access, prefix, created_at, expires_at, revoked_at, last_used_at"

    /// SHA-256 of a key's secret, as stored.
    public static func hash(_ token: APIKeyToken) -> [UInt8] { Array(SHA256.hash(data: Data(token.secret.utf8))) }

    /// Whether `token`'s secret hashes to `storedHash`, compared in constant time.
    public static func matches(_ token: APIKeyToken, storedHash: [UInt8]) -> Bool {
        let presented = hash(token)
        guard presented.count == storedHash.count else { return false }
        return zip(presented, storedHash).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Creates a key and returns it with the one copy of its secret; `actor`'s audit row commits with it.
    public func create(
        organisationID: UUID, name: String, role: Role, covertAccess: Bool, expiresAt: Date?, createdBy: UUID?, actor: AuditActor
    ) async throws -> (key: APIKey, token: APIKeyToken) {
        let token = APIKeyToken.generate()
        let key = try await database.withTransaction { connection in
            let key = try APIKey(
                row: try await connection.query(
                    "INSERT INTO api_keys (organisation_id, name, role, covert_access, prefix, secret_hash, expires_at, created_by, created_at) "
                        + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING " + Self.columns,
                    organisationID, name, role.rawValue, covertAccess, token.prefix, Data(Self.hash(token)), expiresAt, createdBy, clock.now()
                )[0]
            )
            try await connection.recordAudit(
                actor.event(
                    "api_key.create", .success, entityType: "api_key", entityID: key.id.uuidString.lowercased(),
                    detail: [
                        "prefix": .string(key.prefix), "role": .string(key.role.rawValue), "organisation_id": .id(organisationID),
                        "covert_access": .boolean(covertAccess),
                    ]
                )
            )
            return key
        }
        return (key, token)
    }

    /// The key with `prefix`, its stored hash and its organisation's kind, or `nil`.
    public func find(prefix: String) async throws -> (key: APIKey, secretHash: [UInt8], organisationKind: OrganisationKind)? {
        try await database.withConnection { connection in
            guard
                let row = try await connection.query(
                    """
                    SELECT k.id, k.organisation_id, k.name, k.role, k.covert_access, k.prefix, k.created_at, k.expires_at, k.revoked_at,
                           k.last_used_at, k.secret_hash, o.kind
                    FROM api_keys k JOIN organisations o ON o.id = k.organisation_id
                    WHERE k.prefix = $1
                    """,
                    prefix
                ).first
            else { return nil }
            let kind: String = try row.decode(11)
            guard let organisationKind = OrganisationKind(rawValue: kind) else { throw StoredValueError(column: "organisations.kind") }
            return (try APIKey(row: row), Array(try row.decode(10, as: Data.self)), organisationKind)
        }
    }

    /// One page of keys, newest first: one organisation's, or every organisation's when `organisationID` is nil.
    public func list(organisationID: UUID?, page: PageRequest) async throws -> Page<APIKey> {
        let after = try TimeCursor.after(page)
        let rows = try await database.withConnection { connection in
            try await connection.query(
                """
                SELECT id, organisation_id, name, role, covert_access, prefix, created_at, expires_at, revoked_at, last_used_at
                FROM api_keys
                WHERE ($1::uuid IS NULL OR organisation_id = $1)
                  AND ($2::bigint IS NULL OR (created_at, id) < (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::uuid))
                ORDER BY created_at DESC, id DESC
                LIMIT $4
                """,
                organisationID, after?.microseconds, after?.id, page.limit + 1
            )
        }
        return Page(fetched: try rows.map(APIKey.init(row:)), limit: page.limit) { TimeCursor.key($0.createdAt, $0.id) }
    }

    /// The key with `id`, or `nil`.
    public func get(id: UUID) async throws -> APIKey? {
        try await database.withConnection { connection in
            try await connection.query("SELECT " + Self.columns + " FROM api_keys WHERE id = $1", id).first.map(APIKey.init(row:))
        }
    }

    /// Revokes the key with `id` (if it is not revoked already) and returns it; `nil` if there is no such key.
    public func revoke(id: UUID, actor: AuditActor) async throws -> APIKey? {
        try await revoke(id: id, prefix: nil, actor: actor)
    }

    /// Revokes the key with `prefix`; `nil` if there is no such key.
    public func revoke(prefix: String, actor: AuditActor) async throws -> APIKey? {
        try await revoke(id: nil, prefix: prefix, actor: actor)
    }

    /// Revokes the key with `id` or with `prefix` (one of them is given).
    private func revoke(id: UUID?, prefix: String?, actor: AuditActor) async throws -> APIKey? {
        try await database.withTransaction { connection in
            guard
                let row = try await connection.query(
                    "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3) WHERE id = $1 OR prefix = $2 RETURNING " + Self.columns, id, prefix,
                    clock.now()
                ).first
            else { return nil }
            let key = try APIKey(row: row)
            try await connection.recordAudit(
                actor.event(
                    "api_key.revoke", .success, entityType: "api_key", entityID: key.id.uuidString.lowercased(),
                    detail: ["prefix": .string(key.prefix)])
            )
            return key
        }
    }

    /// Records that the key was used, at most once a minute per key, so authentication does not write on
    /// every request.
    public func touch(id: UUID) async throws {
        try await database.withConnection { connection in
            try await connection.query(
                "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2 - interval '1 minute')",
                id, clock.now()
            )
        }
    }
}

extension APIKey {
    init(row: PostgresRow) throws {
        let role: String = try row.decode(3)
        guard let parsed = Role(rawValue: role) else { throw StoredValueError(column: "api_keys.role") }
        self.init(
            id: try row.decode(0), organisationID: try row.decode(1), name: try row.decode(2), role: parsed,
            covertAccess: try row.decode(4), prefix: try row.decode(5), createdAt: try row.decode(6), expiresAt: try row.decode(7),
            revokedAt: try row.decode(8), lastUsedAt: try row.decode(9)
        )
    }
}
