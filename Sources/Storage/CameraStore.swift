import Domain
import Foundation
import LibPQ

/// The camera registry: cameras, their places and what they can see, with covert cameras filtered out of every
/// query for callers who may not know of them (neither confirm nor deny).
public struct CameraStore: Sendable {
    private let database: Database
    private var clock: any WallClock { database.clock }

    /// A store over `database`, reading the time from its clock.
    public init(_ database: Database) { self.database = database }

    static let columns = """
        c.id, c.owner_org_id, c.control_room_id, c.external_ref, c.kind, ST_Y(c.location::geometry), ST_X(c.location::geometry),
        c.borough_gss, c.borough_mismatch, c.heading_deg::float8, c.field_of_view_deg::float8, c.max_dori, c.retention_days, c.status,
        c.commissioned_on, c.decommissioned_on, c.last_replaced_on, c.condition, c.public_space, c.covert, c.created_at, c.updated_at,
        c.version, coalesce(c.retention_days, r.default_retention_days)
        """

    /// The covert filter as two parameters: whether every covert camera is visible, and whose are.
    static func covertParameters(_ visibility: CovertVisibility) -> (all: Bool, owner: UUID?) {
        switch visibility {
        case .none: (false, nil)
        case .ownedBy(let organisation): (false, organisation)
        case .all: (true, nil)
        }
    }

    /// Registers a camera owned by `ownerOrganisationID`; its audit row and `camera.created` event commit with it.
    ///
    /// The borough is derived from the location when not given, and a given one that differs is kept and
    /// flagged. Throws `ValidationError` for a control room that does not exist, or that belongs to another
    /// organisation and does not serve the owner's borough (a shared room monitors its partner boroughs' cameras).
    public func create(ownerOrganisationID: UUID, draft: CameraDraft, actor: AuditActor) async throws -> Camera {
        let now = clock.now()
        return try await database.withTransaction { connection in
            try await Self.checkRoom(draft.controlRoomID, owner: ownerOrganisationID, on: connection)
            let (borough, mismatch) = try await Self.borough(for: draft, on: connection)
            let id: UUID = try await Self.uniqueReference(draft) {
                try await connection.query(
                    """
                    INSERT INTO cameras (owner_org_id, control_room_id, external_ref, kind, location, borough_gss, borough_mismatch, heading_deg,
                                         field_of_view_deg, max_dori, retention_days, status, commissioned_on, decommissioned_on,
                                         last_replaced_on, condition, public_space, covert, created_at, updated_at)
                    VALUES ($1, $2, $3, $4, ST_SetSRID(ST_MakePoint($6, $5), 4326)::geography, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                            $17, $18, $19, $20, $20)
                    RETURNING id
                    """,
                    parameters: [ownerOrganisationID] + Self.parameters(draft, borough: borough, mismatch: mismatch) + [now]
                )[0].decode(0)
            }
            let camera = try await Self.get(id, on: connection)
            try await connection.recordAudit(
                actor.event(
                    "camera.create", .success, entityType: "camera", entityID: id.uuidString.lowercased(),
                    detail: draft.covert ? ["covert": true] : [:])
            )
            try await Self.emit(camera, previous: nil, at: now, on: connection)
            return camera
        }
    }

    /// Registers every camera of an import for `ownerOrganisationID`, or none: a row whose control room is not
    /// the owner's (nor a shared room serving its borough), or whose `external_ref` repeats one in the file or
    /// the registry, fails the whole import with every such problem listed. Each camera gets its
    /// `camera.created` event; the import is one audit row. Returns how many cameras were registered.
    public func importCameras(ownerOrganisationID: UUID, rows: [CameraImport.Row], actor: AuditActor) async throws -> Int {
        let now = clock.now()
        return try await database.withTransaction { connection in
            var problems: [FieldProblem] = []
            let usable = try await Self.usableRooms(Array(Set(rows.compactMap(\.draft.controlRoomID))), owner: ownerOrganisationID, on: connection)
            // References are unique among the owner's open cameras and, apart, among its covert ones: a row is
            // checked only against cameras as covert as it is, so no import learns of a covert camera.
            let refs = rows.compactMap(\.draft.externalRef)
            let taken = Set(
                try await connection.query(
                    "SELECT covert, external_ref FROM cameras WHERE owner_org_id = $1 AND external_ref = ANY ($2::text[])", ownerOrganisationID, refs
                ).map { ReferenceKey(covert: try $0.decode(0), ref: try $0.decode(1)) }
            )
            var seen: Set<ReferenceKey> = []
            for row in rows {
                if let room = row.draft.controlRoomID, usable[room] == nil {
                    problems.append(
                        .init(pointer: row.pointer + "/control_room_id", detail: "is not a control room of the owner or one serving its borough"))
                }
                if let ref = row.draft.externalRef.map({ ReferenceKey(covert: row.draft.covert, ref: $0) }) {
                    if taken.contains(ref) { problems.append(.init(pointer: row.pointer + "/external_ref", detail: "is registered already")) }
                    if !seen.insert(ref).inserted {
                        problems.append(.init(pointer: row.pointer + "/external_ref", detail: "appears earlier in the file"))
                    }
                }
            }
            guard problems.isEmpty else { throw ValidationError(problems) }

            let encoder = JSONEncoder()
            let records = String(
                decoding: try encoder.encode(rows.enumerated().map { ImportRecord(order: $0.offset, draft: $0.element.draft) }), as: UTF8.self)
            let inserted = try await connection.query(
                """
                WITH input AS (
                    SELECT * FROM jsonb_to_recordset($2::jsonb) AS r(
                        ord int, control_room_id uuid, external_ref text, kind text, lat float8, lon float8, borough_gss text, heading_deg float8,
                        field_of_view_deg float8, max_dori text, retention_days int, status text, commissioned_on date, decommissioned_on date,
                        last_replaced_on date, condition smallint, public_space bool, covert bool)
                ), located AS (
                    SELECT i.*, ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326) AS point,
                           borough_at(ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326)) AS found
                    FROM input i
                )
                INSERT INTO cameras (owner_org_id, control_room_id, external_ref, kind, location, borough_gss, borough_mismatch, heading_deg,
                                     field_of_view_deg, max_dori, retention_days, status, commissioned_on, decommissioned_on,
                                     last_replaced_on, condition, public_space, covert, created_at, updated_at)
                SELECT $1, control_room_id, external_ref, kind, point::geography, coalesce(borough_gss, found),
                       borough_gss IS NOT NULL AND borough_gss IS DISTINCT FROM found, heading_deg, field_of_view_deg, max_dori,
                       retention_days, status, commissioned_on, decommissioned_on, last_replaced_on, condition, public_space, covert, $3, $3
                FROM located ORDER BY ord
                RETURNING id, control_room_id, borough_gss, covert, status
                """,
                ownerOrganisationID, records, now
            )
            let police = try await connection.policeForces()
            var authorities: [String: UUID] = [:]
            for row in try await connection.query("SELECT gss_code, organisation_id FROM boroughs") {
                authorities[try row.decode(0)] = try row.decode(1)
            }
            let events = try inserted.map { row in
                let room: UUID? = try row.decode(1)
                let borough: String? = try row.decode(2)
                guard let status = CameraStatus(rawValue: try row.decode(4)) else { throw StoredValueError(column: "cameras.status") }
                return DomainEvent.camera(
                    .cameraCreated, id: try row.decode(0), version: 1, status: status, covert: try row.decode(3), owner: ownerOrganisationID,
                    roomOperator: room.flatMap { usable[$0] }, boroughAuthority: borough.flatMap { authorities[$0] }, policeForces: police
                )
            }
            try await connection.append(events, at: now)
            try await connection.recordAudit(
                actor.event("camera.import", .success, entityType: "camera", detail: ["cameras": .integer(inserted.count)])
            )
            return inserted.count
        }
    }

    /// The camera with `id` if it exists and `visibility` lets the caller know of it; otherwise `nil`, whichever
    /// the reason.
    public func get(id: UUID, visibility: CovertVisibility) async throws -> Camera? {
        let covert = Self.covertParameters(visibility)
        return try await database.withConnection { connection in
            try await connection.query(
                "SELECT " + Self.columns + """
                    , NULL::float8 FROM cameras c LEFT JOIN control_rooms r ON r.id = c.control_room_id
                    WHERE c.id = $1 AND (NOT c.covert OR $2 OR c.owner_org_id = $3::uuid)
                    """,
                id, covert.all, covert.owner
            ).first.map(Camera.init(row:))
        }
    }

    /// One page of the cameras `filter` selects that `visibility` lets the caller know of: nearest first for a
    /// `near` search (with each camera's distance), else in id order.
    public func list(_ filter: CameraFilter, visibility: CovertVisibility, page: PageRequest) async throws -> Page<Camera> {
        let (sql, parameters) = try Self.listQuery(filter, visibility: visibility, page: page)
        let rows = try await database.withConnection { connection in try await connection.query(sql, parameters: parameters) }
        return Page(fetched: try rows.map(Camera.init(row:)), limit: page.limit) { camera in
            filter.near == nil ? [camera.id.uuidString] : [String(camera.distanceMetres ?? 0), camera.id.uuidString]
        }
    }

    /// PostgreSQL's plan for the first page of `list`, one line per row of EXPLAIN: for checking that searches
    /// use their indexes.
    public func plan(_ filter: CameraFilter, visibility: CovertVisibility) async throws -> String {
        let (sql, parameters) = try Self.listQuery(filter, visibility: visibility, page: PageRequest(limit: nil, cursor: nil))
        return try await database.withConnection { connection in
            try await connection.query("EXPLAIN " + sql, parameters: parameters).map { try $0.decode(0, as: String.self) }.joined(separator: "\n")
        }
    }

    private static func listQuery(
        _ filter: CameraFilter, visibility: CovertVisibility, page: PageRequest
    ) throws -> (String, [(any PostgresEncodable)?]) {
        let covert = covertParameters(visibility)
        var afterDistance: Double?
        var afterID: UUID?
        if let key = page.cursor?.key {
            let valid = filter.near == nil ? key.count == 1 : key.count == 2 && Double(key[0]) != nil
            guard valid, let id = UUID(uuidString: key[key.count - 1]) else {
                throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")])
            }
            afterID = id
            afterDistance = filter.near == nil ? nil : Double(key[0])
        }
        // Two orders, each written out whole: by distance from the centre for a near search, else by id.
        let distance = "ST_Distance(c.location, ST_SetSRID(ST_MakePoint($9, $8), 4326)::geography)"
        let order =
            filter.near == nil
            ? "AND ($16::uuid IS NULL OR c.id > $16) ORDER BY c.id"
            : "AND ($17::uuid IS NULL OR (" + distance + ", c.id) > ($16, $17)) ORDER BY " + distance + ", c.id"
        let cursor: [(any PostgresEncodable)?] = filter.near == nil ? [afterID] : [afterDistance, afterID]
        let sql =
            "SELECT " + columns + ", CASE WHEN $8::float8 IS NULL THEN NULL ELSE " + distance + """
                 END FROM cameras c LEFT JOIN control_rooms r ON r.id = c.control_room_id
                WHERE (NOT c.covert OR $1 OR c.owner_org_id = $2::uuid)
                  AND ($3::uuid IS NULL OR c.owner_org_id = $3)
                  AND ($4::uuid IS NULL OR c.control_room_id = $4)
                  AND ($5::text IS NULL OR c.borough_gss = $5)
                  AND ($6::text IS NULL OR c.kind = $6)
                  AND ($7::text IS NULL OR c.status = $7)
                  AND ($8::float8 IS NULL OR ST_DWithin(c.location, ST_SetSRID(ST_MakePoint($9, $8), 4326)::geography, $10))
                  AND ($11::float8 IS NULL OR ST_Intersects(c.location, ST_MakeEnvelope($11, $12, $13, $14, 4326)::geography))
                """ + " " + order + " LIMIT $15"
        let parameters: [(any PostgresEncodable)?] = [
            covert.all, covert.owner, filter.ownerOrganisationID, filter.controlRoomID, filter.boroughGSS?.rawValue,
            filter.kind?.rawValue, filter.status?.rawValue, filter.near?.centre.lat, filter.near?.centre.lon,
            filter.near?.radiusMetres, filter.bbox?.minimum.lon, filter.bbox?.minimum.lat, filter.bbox?.maximum.lon,
            filter.bbox?.maximum.lat, page.limit + 1,
        ]
        return (sql, parameters + cursor)
    }

    /// How many cameras `visibility` lets the caller know of were in service on each of `dates`, by `grouping`:
    /// one row per group with a count per date, in the order of `dates`. In service means from
    /// `commissioned_on` (else the day it was registered) until the day before `decommissioned_on`; planned
    /// cameras are not counted.
    public func statistics(
        asOf dates: [Day], groupBy grouping: CameraGrouping, visibility: CovertVisibility
    ) async throws -> (groups: [(key: String, counts: [Int])], covertCounted: Int) {
        let covert = Self.covertParameters(visibility)
        let rows = try await database.withConnection { connection in
            try await connection.query(
                """
                SELECT CASE $1 WHEN 'kind' THEN c.kind WHEN 'borough' THEN coalesce(c.borough_gss, 'outside_london') ELSE o.kind END,
                       d.position, count(*), count(*) FILTER (WHERE c.covert)
                FROM unnest($2::text[]::date[]) WITH ORDINALITY AS d(day, position)
                JOIN cameras c ON coalesce(c.commissioned_on, c.created_at::date) <= d.day
                              AND (c.decommissioned_on IS NULL OR c.decommissioned_on > d.day) AND c.status <> 'planned'
                JOIN organisations o ON o.id = c.owner_org_id
                WHERE (NOT c.covert OR $3 OR c.owner_org_id = $4::uuid)
                GROUP BY 1, 2
                ORDER BY 1, 2
                """,
                grouping.rawValue, dates.map(\.description), covert.all, covert.owner
            )
        }
        var groups: [(key: String, counts: [Int])] = []
        var covertCounted = 0
        for row in rows {
            let key: String = try row.decode(0)
            let position: Int = try row.decode(1)
            if groups.last?.key != key { groups.append((key, Array(repeating: 0, count: dates.count))) }
            groups[groups.count - 1].counts[position - 1] = try row.decode(2)
            covertCounted += try row.decode(3, as: Int.self)
        }
        return (groups, covertCounted)
    }

    /// Replaces the camera's fields with `draft` if it is still at `expectedVersion`; its audit row and
    /// `camera.updated` (or `camera.status_changed`) event commit with it. `nil` if there is no such camera the
    /// caller may know of; throws `PreconditionFailure.stale` if it changed meanwhile.
    public func update(
        id: UUID, draft: CameraDraft, expectedVersion: Int, visibility: CovertVisibility, actor: AuditActor
    ) async throws -> Camera? {
        let covert = Self.covertParameters(visibility)
        let now = clock.now()
        return try await database.withTransaction { connection in
            guard
                let row = try await connection.query(
                    "SELECT c.owner_org_id, c.version FROM cameras c WHERE c.id = $1 AND (NOT c.covert OR $2 OR c.owner_org_id = $3::uuid) FOR UPDATE",
                    id, covert.all, covert.owner
                ).first
            else { return nil }
            let owner: UUID = try row.decode(0)
            let version: Int = try row.decode(1)
            guard version == expectedVersion else { throw PreconditionFailure.stale(currentETag: Preconditions.etag(version: version)) }
            let previous = try await Self.get(id, on: connection)
            try await Self.checkRoom(draft.controlRoomID, owner: owner, on: connection)
            let (borough, mismatch) = try await Self.borough(for: draft, on: connection)
            try await Self.uniqueReference(draft) {
                try await connection.query(
                    """
                        UPDATE cameras SET
                        control_room_id = $2, external_ref = $3, kind = $4, location = ST_SetSRID(ST_MakePoint($6, $5), 4326)::geography,
                        borough_gss = $7, borough_mismatch = $8, heading_deg = $9, field_of_view_deg = $10, max_dori = $11,
                        retention_days = $12, status = $13, commissioned_on = $14, decommissioned_on = $15, last_replaced_on = $16,
                        condition = $17, public_space = $18, covert = $19, updated_at = $20, version = version + 1
                    WHERE id = $1
                    """,
                    parameters: [id] + Self.parameters(draft, borough: borough, mismatch: mismatch) + [now]
                )
            }
            let camera = try await Self.get(id, on: connection)
            try await connection.recordAudit(
                actor.event(
                    "camera.update", .success, entityType: "camera", entityID: id.uuidString.lowercased(),
                    detail: ["version": .integer(camera.version)])
            )
            try await Self.emit(camera, previous: previous, at: now, on: connection)
            return camera
        }
    }

    /// An owner's reference, which is unique among its cameras as covert as the one it names.
    private struct ReferenceKey: Hashable {
        var covert: Bool
        var ref: String
    }

    /// Runs `write` (an insert or update of a camera as `draft` describes it) and answers a reference the owner
    /// already gives another camera as covert as this one with a 409 naming `/external_ref`: the unique index
    /// decides, so two writers at once cannot both take it. A covert camera's reference never collides with an
    /// open one's, so the answer is the same whether or not a covert camera the caller cannot see holds it.
    @discardableResult
    private static func uniqueReference<T>(_ draft: CameraDraft, _ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch let error as PostgresError where error.sqlState == SQLState.uniqueViolation && error.constraint == "cameras_owner_covert_external_ref"
        {
            throw StateConflict(
                "Another of the owner's cameras has the reference \"\(draft.externalRef ?? "")\".",
                fields: [
                    .init(pointer: "/external_ref", detail: "is the reference of another of the owner's cameras; references are unique per owner")
                ]
            )
        }
    }

    private static func parameters(_ draft: CameraDraft, borough: String?, mismatch: Bool) -> [(any PostgresEncodable)?] {
        [
            draft.controlRoomID, draft.externalRef, draft.kind.rawValue, draft.location.lat, draft.location.lon, borough, mismatch,
            draft.headingDeg, draft.fieldOfViewDeg, draft.maxDORI?.rawValue, draft.retentionDays, draft.status.rawValue,
            draft.commissionedOn.map(PostgresDate.init), draft.decommissionedOn.map(PostgresDate.init),
            draft.lastReplacedOn.map(PostgresDate.init), draft.condition, draft.publicSpace, draft.covert,
        ]
    }

    /// A camera's room must be its owner's, or a shared room that serves the borough of its owning authority.
    private static func checkRoom(_ roomID: UUID?, owner: UUID, on connection: PostgresConnection) async throws {
        guard let roomID, try await usableRooms([roomID], owner: owner, on: connection).isEmpty else { return }
        guard try await connection.query("SELECT 1 FROM control_rooms WHERE id = $1", roomID).isEmpty else {
            throw ValidationError([
                .init(pointer: "/control_room_id", detail: "is a control room of another organisation that does not serve the owner's borough")
            ])
        }
        throw ValidationError([.init(pointer: "/control_room_id", detail: "is not a control room")])
    }

    /// Which of `roomIDs` may monitor cameras of `owner` (the owner's rooms and shared rooms serving the owning
    /// authority's borough), each with its operator.
    private static func usableRooms(_ roomIDs: [UUID], owner: UUID, on connection: PostgresConnection) async throws -> [UUID: UUID] {
        guard !roomIDs.isEmpty else { return [:] }
        var usable: [UUID: UUID] = [:]
        for row in try await connection.query(
            """
            SELECT r.id, r.operator_org_id FROM control_rooms r
            WHERE r.id = ANY ($1::uuid[]) AND (r.operator_org_id = $2 OR EXISTS (
                SELECT 1 FROM control_room_boroughs s JOIN boroughs b ON b.gss_code = s.gss_code
                WHERE s.control_room_id = r.id AND b.organisation_id = $2))
            """,
            roomIDs, owner
        ) {
            usable[try row.decode(0)] = try row.decode(1)
        }
        return usable
    }

    /// The borough to store and whether it differs from the one the location falls in.
    private static func borough(for draft: CameraDraft, on connection: PostgresConnection) async throws -> (String?, Bool) {
        let located: String? = try await connection.query(
            "SELECT borough_at(ST_SetSRID(ST_MakePoint($2, $1), 4326))", draft.location.lat, draft.location.lon
        )[0].decode(0)
        guard let given = draft.boroughGSS else { return (located, false) }
        return (given, given != located)
    }

    private static func get(_ id: UUID, on connection: PostgresConnection) async throws -> Camera {
        try Camera(
            row: try await connection.query(
                "SELECT " + columns + ", NULL::float8 FROM cameras c LEFT JOIN control_rooms r ON r.id = c.control_room_id WHERE c.id = $1", id
            )[0]
        )
    }

    /// Writes `camera.created` (without `previous`), else `camera.updated` or `camera.status_changed`.
    private static func emit(_ camera: Camera, previous: Camera?, at now: Date, on connection: PostgresConnection) async throws {
        let row = try await connection.query(
            """
            SELECT (SELECT operator_org_id FROM control_rooms WHERE id = $1), (SELECT organisation_id FROM boroughs WHERE gss_code = $2)
            """,
            camera.draft.controlRoomID, camera.draft.boroughGSS
        )[0]
        let (roomOperator, boroughAuthority): (UUID?, UUID?) = (try row.decode(0), try row.decode(1))
        let police = try await connection.policeForces()
        let event: DomainEvent =
            if let previous {
                .cameraChanged(
                    camera, previousStatus: previous.draft.status, roomOperator: roomOperator, boroughAuthority: boroughAuthority,
                    policeForces: police
                )
            } else {
                .camera(
                    .cameraCreated, id: camera.id, version: camera.version, status: camera.draft.status, covert: camera.draft.covert,
                    owner: camera.ownerOrganisationID, roomOperator: roomOperator, boroughAuthority: boroughAuthority, policeForces: police
                )
            }
        try await connection.append(event, at: now)
    }
}

extension Camera {
    init(row: PostgresRow) throws {
        func day(_ index: Int) throws -> Day? { try row.decode(index, as: PostgresDate?.self).map(Day.init) }
        let kind: String = try row.decode(4)
        let status: String = try row.decode(13)
        let dori: String? = try row.decode(11)
        guard let parsedKind = CameraKind(rawValue: kind) else { throw StoredValueError(column: "cameras.kind") }
        guard let parsedStatus = CameraStatus(rawValue: status) else { throw StoredValueError(column: "cameras.status") }
        self.init(
            id: try row.decode(0), ownerOrganisationID: try row.decode(1),
            draft: CameraDraft(
                controlRoomID: try row.decode(2), externalRef: try row.decode(3), kind: parsedKind,
                location: Location(lat: try row.decode(5), lon: try row.decode(6)), boroughGSS: try row.decode(7),
                headingDeg: try row.decode(9), fieldOfViewDeg: try row.decode(10), maxDORI: dori.flatMap(DORI.init(rawValue:)),
                retentionDays: try row.decode(12), status: parsedStatus, commissionedOn: try day(14), decommissionedOn: try day(15),
                lastReplacedOn: try day(16), condition: try row.decode(17), publicSpace: try row.decode(18), covert: try row.decode(19)
            ),
            boroughMismatch: try row.decode(8), effectiveRetentionDays: try row.decode(23), createdAt: try row.decode(20),
            updatedAt: try row.decode(21), version: try row.decode(22), distanceMetres: try row.decode(24)
        )
    }
}

/// One camera of an import as `jsonb_to_recordset` reads it.
private struct ImportRecord: Encodable {
    let order: Int
    let draft: CameraDraft

    func encode(to encoder: any Encoder) throws {
        try draft.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(order, forKey: .ord)
        try container.encode(draft.location.lat, forKey: .lat)
        try container.encode(draft.location.lon, forKey: .lon)
    }

    enum Key: String, CodingKey { case ord, lat, lon }
}

/// One event of a bulk insert as `jsonb_to_recordset` reads it.
