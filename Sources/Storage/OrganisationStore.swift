import Domain
import Foundation
import LibPQ

/// Organisations and the London boroughs.
public struct OrganisationStore: Sendable {
    private let database: Database

    /// A store over `database`.
    public init(_ database: Database) { self.database = database }

    /// One page of organisations ordered by name then id, optionally of one kind.
    public func list(kind: OrganisationKind?, page: PageRequest) async throws -> Page<Organisation> {
        let after = page.cursor?.key
        guard after == nil || (after?.count == 2 && UUID(uuidString: after![1]) != nil) else {
            throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")])
        }
        let rows = try await database.withConnection { connection in
            try await connection.query(
                """
                SELECT id, kind, name, gss_code, created_at, updated_at
                FROM organisations
                WHERE ($1::text IS NULL OR kind = $1)
                  AND ($2::text IS NULL OR (name, id) > ($2, $3::uuid))
                ORDER BY name, id
                LIMIT $4
                """,
                kind?.rawValue, after?[0], after?[1], page.limit + 1
            )
        }
        return Page(fetched: try rows.map(Organisation.init(row:)), limit: page.limit) { [$0.name, $0.id.uuidString] }
    }

    /// The organisation with `id`, or `nil`.
    public func get(id: UUID) async throws -> Organisation? {
        try await database.withConnection { connection in
            try await connection.query(
                "SELECT id, kind, name, gss_code, created_at, updated_at FROM organisations WHERE id = $1", id
            ).first.map(Organisation.init(row:))
        }
    }

    /// The organisation a person named on the command line: a borough's GSS code, an organisation id, an
    /// organisation's exact name or a borough's name (any case); `nil` if none matches.
    public func resolve(_ reference: String) async throws -> Organisation? {
        if let code = GSSCode(reference) {
            guard let borough = try await borough(gssCode: code) else { return nil }
            return try await get(id: borough.organisationID)
        }
        if let id = UUID(uuidString: reference) { return try await get(id: id) }
        return try await database.withConnection { connection in
            try await connection.query(
                """
                SELECT o.id, o.kind, o.name, o.gss_code, o.created_at, o.updated_at
                FROM organisations o LEFT JOIN boroughs b ON b.organisation_id = o.id
                WHERE lower(o.name) = lower($1) OR lower(b.name) = lower($1)
                """,
                reference
            ).first.map(Organisation.init(row:))
        }
    }

    /// One page of boroughs ordered by GSS code.
    public func listBoroughs(page: PageRequest) async throws -> Page<Borough> {
        let after = page.cursor?.key
        guard after == nil || (after?.count == 1 && GSSCode(after![0]) != nil) else {
            throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")])
        }
        let rows = try await database.withConnection { connection in
            try await connection.query(
                """
                SELECT gss_code, name, organisation_id FROM boroughs
                WHERE $1::text IS NULL OR gss_code > $1
                ORDER BY gss_code
                LIMIT $2
                """,
                after?[0], page.limit + 1
            )
        }
        return Page(fetched: try rows.map(Borough.init(row:)), limit: page.limit) { [$0.gssCode.rawValue] }
    }

    /// The borough with `gssCode`, or `nil`.
    public func borough(gssCode: GSSCode) async throws -> Borough? {
        try await database.withConnection { connection in
            try await connection.query(
                "SELECT gss_code, name, organisation_id FROM boroughs WHERE gss_code = $1", gssCode.rawValue
            ).first.map(Borough.init(row:))
        }
    }
}

extension Organisation {
    init(row: PostgresRow) throws {
        let kind: String = try row.decode(1)
        let gss: String? = try row.decode(3)
        self.init(
            id: try row.decode(0),
            kind: try OrganisationKind(rawValue: kind).unwrap("organisations.kind"),
            name: try row.decode(2),
            gssCode: try gss.map { try GSSCode($0).unwrap("organisations.gss_code") },
            createdAt: try row.decode(4),
            updatedAt: try row.decode(5)
        )
    }
}

extension Borough {
    init(row: PostgresRow) throws {
        let gss: String = try row.decode(0)
        self.init(gssCode: try GSSCode(gss).unwrap("boroughs.gss_code"), name: try row.decode(1), organisationID: try row.decode(2))
    }
}

/// A value in the database that the domain does not accept: a schema and code out of step.
public struct StoredValueError: Error, Sendable, CustomStringConvertible {
    /// Which column held it.
    public let column: String
    public var description: String { "the stored value of \(column) is not valid in this build" }
}

extension Optional {
    fileprivate func unwrap(_ column: String) throws -> Wrapped {
        guard let self else { throw StoredValueError(column: column) }
        return self
    }
}
