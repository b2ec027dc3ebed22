import Domain
import Foundation
import LibPQ

/// Police embedding arrangements with control rooms.
public struct EmbeddingArrangementStore: Sendable {
    private let database: Database
    private var clock: any WallClock { database.clock }

    /// A store over `database`, reading the time from its clock.
    public init(_ database: Database) { self.database = database }

    static let columns = """
        e.id, e.control_room_id, e.police_org_id, e.model, e.staff_count, e.hours_per_week::float8, e.starts_on, e.ends_on,
        e.agreement_ref, e.review_due_on, e.created_at, e.updated_at, e.version
        """

    /// Records an arrangement between `controlRoomID` and `policeOrganisationID`; its audit row and
    /// `embedding_arrangement.created` event commit with it.
    public func create(
        controlRoomID: UUID, policeOrganisationID: UUID, draft: EmbeddingDraft, actor: AuditActor
    ) async throws -> EmbeddingArrangement {
        let now = clock.now()
        return try await database.withTransaction { connection in
            let id: UUID = try await connection.query(
                """
                INSERT INTO embedding_arrangements (control_room_id, police_org_id, model, staff_count, hours_per_week, starts_on, ends_on,
                                                    agreement_ref, review_due_on, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id
                """,
                parameters: [controlRoomID, policeOrganisationID] + Self.parameters(draft) + [now]
            )[0].decode(0)
            let arrangement = try await Self.get(id, on: connection)
            try await connection.recordAudit(
                actor.event("embedding_arrangement.create", .success, entityType: "embedding_arrangement", entityID: id.uuidString.lowercased())
            )
            try await Self.emit(.embeddingArrangementCreated, arrangement, at: now, on: connection)
            return arrangement
        }
    }

    /// The arrangement with `id`, or `nil`.
    public func get(id: UUID) async throws -> EmbeddingArrangement? {
        try await database.withConnection { connection in
            try await connection.query("SELECT " + Self.columns + " FROM embedding_arrangements e WHERE e.id = $1", id).first
                .map(EmbeddingArrangement.init(row:))
        }
    }

    /// One page of arrangements, by start date then id.
    public func list(_ filter: EmbeddingFilter, page: PageRequest) async throws -> Page<EmbeddingArrangement> {
        let after = page.cursor?.key
        guard after == nil || (after?.count == 2 && Day(after![0]) != nil && UUID(uuidString: after![1]) != nil) else {
            throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")])
        }
        let rows = try await database.withConnection { connection in
            try await connection.query(
                "SELECT " + Self.columns + """
                     FROM embedding_arrangements e
                    WHERE ($1::uuid IS NULL OR e.control_room_id = $1)
                      AND ($2::uuid IS NULL OR e.police_org_id = $2)
                      AND ($3::date IS NULL OR (e.starts_on <= $3 AND (e.ends_on IS NULL OR e.ends_on >= $3)))
                      AND ($4::text IS NULL OR e.model = $4)
                      AND ($5::date IS NULL OR (e.starts_on, e.id) > ($5, $6::uuid))
                    ORDER BY e.starts_on, e.id
                    LIMIT $7
                    """,
                filter.controlRoomID, filter.policeOrganisationID, filter.activeOn.map(PostgresDate.init), filter.model?.rawValue,
                after.flatMap { Day($0[0]) }.map(PostgresDate.init), after.flatMap { UUID(uuidString: $0[1]) }, page.limit + 1
            )
        }
        return Page(fetched: try rows.map(EmbeddingArrangement.init(row:)), limit: page.limit) {
            [$0.draft.startsOn.description, $0.id.uuidString]
        }
    }

    /// Replaces the arrangement's fields with `draft` if it is still at `expectedVersion`; its audit row and
    /// event (`embedding_arrangement.ended` when `ended`, else `.updated`) commit with it. `nil` if there is no such
    /// arrangement; throws `PreconditionFailure.stale` if it changed meanwhile.
    public func update(
        id: UUID, draft: EmbeddingDraft, expectedVersion: Int, ended: Bool, actor: AuditActor
    ) async throws -> EmbeddingArrangement? {
        let now = clock.now()
        return try await database.withTransaction { connection in
            guard let row = try await connection.query("SELECT version FROM embedding_arrangements WHERE id = $1 FOR UPDATE", id).first else {
                return nil
            }
            let version: Int = try row.decode(0)
            guard version == expectedVersion else { throw PreconditionFailure.stale(currentETag: Preconditions.etag(version: version)) }
            try await connection.query(
                """
                UPDATE embedding_arrangements SET model = $2, staff_count = $3, hours_per_week = $4, starts_on = $5, ends_on = $6,
                    agreement_ref = $7, review_due_on = $8, updated_at = $9, version = version + 1
                WHERE id = $1
                """,
                parameters: [id] + Self.parameters(draft) + [now]
            )
            let arrangement = try await Self.get(id, on: connection)
            try await connection.recordAudit(
                actor.event(
                    ended ? "embedding_arrangement.end" : "embedding_arrangement.update", .success, entityType: "embedding_arrangement",
                    entityID: id.uuidString.lowercased(), detail: ["version": .integer(arrangement.version)])
            )
            try await Self.emit(ended ? .embeddingArrangementEnded : .embeddingArrangementUpdated, arrangement, at: now, on: connection)
            return arrangement
        }
    }

    private static func parameters(_ draft: EmbeddingDraft) -> [(any PostgresEncodable)?] {
        [
            draft.model.rawValue, draft.staffCount, draft.hoursPerWeek, PostgresDate(draft.startsOn), draft.endsOn.map(PostgresDate.init),
            draft.agreementRef, draft.reviewDueOn.map(PostgresDate.init),
        ]
    }

    private static func get(_ id: UUID, on connection: PostgresConnection) async throws -> EmbeddingArrangement {
        try EmbeddingArrangement(row: try await connection.query("SELECT " + columns + " FROM embedding_arrangements e WHERE e.id = $1", id)[0])
    }

    private static func emit(_ type: EventType, _ arrangement: EmbeddingArrangement, at now: Date, on connection: PostgresConnection) async throws {
        let row = try await connection.query(
            """
            SELECT r.operator_org_id,
                   ARRAY(SELECT b.organisation_id FROM control_room_boroughs s JOIN boroughs b ON b.gss_code = s.gss_code
                         WHERE s.control_room_id = r.id ORDER BY 1)
            FROM control_rooms r WHERE r.id = $1
            """,
            arrangement.controlRoomID
        )[0]
        try await connection.append(.embedding(type, arrangement, roomOperator: try row.decode(0), boroughAuthorities: try row.decode(1)), at: now)
    }
}

extension EmbeddingArrangement {
    init(row: PostgresRow) throws {
        let model: String = try row.decode(3)
        guard let parsedModel = EmbeddingModel(rawValue: model) else { throw StoredValueError(column: "embedding_arrangements.model") }
        func day(_ index: Int) throws -> Day? { try row.decode(index, as: PostgresDate?.self).map(Day.init) }
        guard let startsOn = try day(6) else { throw StoredValueError(column: "embedding_arrangements.starts_on") }
        self.init(
            id: try row.decode(0), controlRoomID: try row.decode(1), policeOrganisationID: try row.decode(2),
            draft: EmbeddingDraft(
                model: parsedModel, staffCount: try row.decode(4), hoursPerWeek: try row.decode(5), startsOn: startsOn, endsOn: try day(7),
                agreementRef: try row.decode(8), reviewDueOn: try day(9)
            ),
            createdAt: try row.decode(10), updatedAt: try row.decode(11), version: try row.decode(12)
        )
    }
}
