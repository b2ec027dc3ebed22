import Domain
import Foundation
import LibPQ

/// Control rooms and the boroughs each serves.
public struct ControlRoomStore: Sendable {
    private let database: Database
    private var clock: any WallClock { database.clock }

    /// A store over `database`, reading the time from its clock.
    public init(_ database: Database) { self.database = database }

    static let columns = """
        r.id, r.operator_org_id, r.name, ST_Y(r.location::geometry), ST_X(r.location::geometry), r.address, r.hours,
        r.operator_positions, r.vms_platform, r.export_formats, r.default_retention_days, r.annual_cost_pence, r.status,
        r.created_at, r.updated_at, r.version,
        ARRAY(SELECT b.gss_code FROM control_room_boroughs b WHERE b.control_room_id = r.id ORDER BY b.gss_code),
        r.staff_fte::float8, r.costs_reviewed_on, r.merged_into
        """

    /// Creates a room run by `operatorOrganisationID`; its audit row and `control_room.created` event commit with it.
    public func create(operatorOrganisationID: UUID, draft: ControlRoomDraft, actor: AuditActor) async throws -> ControlRoom {
        let now = clock.now()
        return try await database.withTransaction { connection in
            let id: UUID = try await connection.query(
                """
                INSERT INTO control_rooms (operator_org_id, name, location, address, hours, operator_positions, vms_platform, export_formats,
                                           default_retention_days, annual_cost_pence, status, created_at, updated_at, staff_fte, costs_reviewed_on)
                VALUES ($1, $2, CASE WHEN $3::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint($4, $3), 4326)::geography END,
                        $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15)
                RETURNING id
                """,
                operatorOrganisationID, draft.name, draft.location?.lat, draft.location?.lon, draft.address, draft.hours,
                draft.operatorPositions, draft.vmsPlatform, draft.exportFormats, draft.defaultRetentionDays, draft.annualCostPence,
                draft.status.rawValue, now, draft.staffFTE, draft.costsReviewedOn.map(PostgresDate.init)
            )[0].decode(0)
            try await connection.query(
                "INSERT INTO control_room_boroughs (control_room_id, gss_code) SELECT $1, unnest($2::text[])", id, draft.boroughsServed
            )
            let room = try await Self.get(id, on: connection)
            try await connection.recordAudit(
                actor.event("control_room.create", .success, entityType: "control_room", entityID: id.uuidString.lowercased())
            )
            try await Self.emit(.controlRoomCreated, room, at: now, on: connection)
            return room
        }
    }

    /// The room with `id`, or `nil`.
    public func get(id: UUID) async throws -> ControlRoom? {
        try await database.withConnection { connection in
            try await connection.query("SELECT " + Self.columns + " FROM control_rooms r WHERE r.id = $1", id).first.map(ControlRoom.init(row:))
        }
    }

    /// One page of rooms in name order.
    public func list(_ filter: ControlRoomFilter, page: PageRequest) async throws -> Page<ControlRoom> {
        let after = page.cursor?.key
        guard after == nil || (after?.count == 2 && UUID(uuidString: after![1]) != nil) else {
            throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")])
        }
        let rows = try await database.withConnection { connection in
            try await connection.query(
                "SELECT " + Self.columns + """
                     FROM control_rooms r
                    WHERE ($1::uuid IS NULL OR r.operator_org_id = $1)
                      AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM control_room_boroughs b WHERE b.control_room_id = r.id AND b.gss_code = $2))
                      AND ($3::text IS NULL OR r.status = $3)
                      AND ($4::text IS NULL OR (r.name, r.id) > ($4, $5::uuid))
                    ORDER BY r.name, r.id
                    LIMIT $6
                    """,
                filter.operatorOrganisationID, filter.boroughServed?.rawValue, filter.status?.rawValue, after?[0], after?[1], page.limit + 1
            )
        }
        return Page(fetched: try rows.map(ControlRoom.init(row:)), limit: page.limit) { [$0.draft.name, $0.id.uuidString] }
    }

    /// Replaces the room's fields with `draft` if it is still at `expectedVersion`; its audit row and
    /// `control_room.updated` event commit with it. `nil` if there is no such room; throws `.stale` if it changed.
    public func update(id: UUID, draft: ControlRoomDraft, expectedVersion: Int, actor: AuditActor) async throws -> ControlRoom? {
        let now = clock.now()
        return try await database.withTransaction { connection in
            guard let current = try await connection.query("SELECT version FROM control_rooms WHERE id = $1 FOR UPDATE", id).first else {
                return nil
            }
            let version: Int = try current.decode(0)
            guard version == expectedVersion else { throw PreconditionFailure.stale(currentETag: Preconditions.etag(version: version)) }
            try await connection.query(
                """
                UPDATE control_rooms SET
                    name = $2, location = CASE WHEN $3::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint($4, $3), 4326)::geography END,
                    address = $5, hours = $6, operator_positions = $7, vms_platform = $8, export_formats = $9,
                    default_retention_days = $10, annual_cost_pence = $11, status = $12, updated_at = $13, staff_fte = $14,
                    costs_reviewed_on = $15, version = version + 1
                WHERE id = $1
                """,
                id, draft.name, draft.location?.lat, draft.location?.lon, draft.address, draft.hours, draft.operatorPositions,
                draft.vmsPlatform, draft.exportFormats, draft.defaultRetentionDays, draft.annualCostPence, draft.status.rawValue, now,
                draft.staffFTE, draft.costsReviewedOn.map(PostgresDate.init)
            )
            try await connection.query(
                "DELETE FROM control_room_boroughs WHERE control_room_id = $1 AND NOT gss_code = ANY ($2::text[])", id, draft.boroughsServed
            )
            try await connection.query(
                "INSERT INTO control_room_boroughs (control_room_id, gss_code) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
                id, draft.boroughsServed
            )
            let room = try await Self.get(id, on: connection)
            try await connection.recordAudit(
                actor.event(
                    "control_room.update", .success, entityType: "control_room", entityID: id.uuidString.lowercased(),
                    detail: ["version": .integer(room.version)])
            )
            try await Self.emit(.controlRoomUpdated, room, at: now, on: connection)
            return room
        }
    }

    private static func get(_ id: UUID, on connection: PostgresConnection) async throws -> ControlRoom {
        try ControlRoom(row: try await connection.query("SELECT " + columns + " FROM control_rooms r WHERE r.id = $1", id)[0])
    }

    private static func emit(_ type: EventType, _ room: ControlRoom, at now: Date, on connection: PostgresConnection) async throws {
        let authorities: [UUID] = try await connection.query(
            "SELECT organisation_id FROM boroughs WHERE gss_code = ANY ($1::text[])", room.draft.boroughsServed
        ).map { try $0.decode(0) }
        try await connection.append(
            .controlRoom(type, room, boroughAuthorities: authorities, policeForces: try await connection.policeForces()), at: now
        )
    }
}

extension ControlRoom {
    init(row: PostgresRow) throws {
        let status: String = try row.decode(12)
        guard let parsedStatus = ControlRoomStatus(rawValue: status) else { throw StoredValueError(column: "control_rooms.status") }
        let lat: Double? = try row.decode(3)
        let lon: Double? = try row.decode(4)
        self.init(
            id: try row.decode(0), operatorOrganisationID: try row.decode(1),
            draft: ControlRoomDraft(
                name: try row.decode(2), location: lat.flatMap { lat in lon.map { Location(lat: lat, lon: $0) } }, address: try row.decode(5),
                boroughsServed: try row.decode(16), hours: try row.decode(6), operatorPositions: try row.decode(7),
                vmsPlatform: try row.decode(8), exportFormats: try row.decode(9), defaultRetentionDays: try row.decode(10),
                annualCostPence: try row.decode(11), staffFTE: try row.decode(17),
                costsReviewedOn: try row.decode(18, as: PostgresDate?.self).map(Day.init), status: parsedStatus
            ),
            mergedInto: try row.decode(19), createdAt: try row.decode(13), updatedAt: try row.decode(14), version: try row.decode(15)
        )
    }
}
