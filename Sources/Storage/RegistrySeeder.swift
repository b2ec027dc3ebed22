import Domain
import Foundation
import LibPQ

/// Demonstration and synthetic registry data, generated inside PostgreSQL from the borough boundaries so that
/// every camera stands inside London, in the borough it is registered to.
///
/// Bulk rows are written directly, not one by one through `CameraStore`: each run records one audit row, and
/// no events (partners are not told of demonstration data).
public struct RegistrySeeder: Sendable {
    private let database: Database

    /// A seeder over `database`.
    public init(_ database: Database) { self.database = database }

    /// Boroughs whose authority runs a room shared with a neighbour, and the neighbour it serves.
    static let sharedRooms: [(operator: String, partner: String)] = [
        ("E09000020", "E09000013"),  // Kensington and Chelsea with Hammersmith and Fulham
        ("E09000027", "E09000021"),  // Richmond upon Thames with Kingston upon Thames
        ("E09000029", "E09000024"),  // Sutton with Merton
    ]

    /// Whether demonstration rooms exist already.
    public func hasDemoRegistry() async throws -> Bool {
        try await database.withConnection { connection in
            try await connection.query("SELECT EXISTS (SELECT 1 FROM control_rooms WHERE name LIKE 'Demo: %')")[0].decode(0)
        }
    }

    /// A believable London: a room for every borough (three of them shared by two neighbours), a TfL room,
    /// police arrangements of every model with each, `boroughCameras` cameras of mixed kinds owned by the
    /// authorities, some TfL and business cameras, and a handful of covert police cameras. Returns the number of
    /// rooms and cameras made.
    public func seedDemoRegistry(boroughCameras: Int, actor: AuditActor) async throws -> (rooms: Int, cameras: Int) {
        try await database.withTransaction { connection in
            let partners = Self.sharedRooms.map(\.partner)
            let operators = Self.sharedRooms.map(\.operator)
            // One room per borough that is not a shared room's partner; a shared room also serves its partner.
            let rooms: Int = try await connection.query(
                """
                WITH made AS (
                    INSERT INTO control_rooms (operator_org_id, name, location, hours, operator_positions, vms_platform, export_formats,
                                               default_retention_days, annual_cost_pence)
                    SELECT b.organisation_id, 'Demo: ' || b.name || ' CCTV control room', ST_PointOnSurface(bb.boundary)::geography,
                           CASE WHEN random() < 0.8 THEN '24x7' ELSE '07:00-01:00 daily' END, 2 + floor(random() * 8)::int,
                           (ARRAY['Genetec Security Center', 'Milestone XProtect', 'Synectics Synergy', 'Hikvision HikCentral'])[1 + floor(random() * 4)::int],
                           ARRAY['mp4', 'avi'], 31, (250000 + floor(random() * 900000)::bigint) * 100
                    FROM boroughs b JOIN borough_boundaries bb USING (gss_code)
                    WHERE b.gss_code <> ALL ($1::text[])
                    RETURNING id, operator_org_id
                ), served AS (
                    INSERT INTO control_room_boroughs (control_room_id, gss_code)
                    SELECT m.id, b.gss_code FROM made m JOIN boroughs b ON b.organisation_id = m.operator_org_id
                    UNION ALL
                    SELECT m.id, p.partner FROM made m JOIN boroughs b ON b.organisation_id = m.operator_org_id
                    JOIN unnest($2::text[], $1::text[]) AS p(operator, partner) ON p.operator = b.gss_code
                    RETURNING 1
                )
                -- Data-changing CTEs run to completion whether or not the query reads them.
                SELECT count(*) FROM made
                """,
                partners, operators
            )[0].decode(0)
            let tflRoom: UUID = try await connection.query(
                """
                INSERT INTO control_rooms (operator_org_id, name, location, hours, operator_positions, vms_platform, export_formats, default_retention_days)
                VALUES (sightline_reference_id('TfL'), 'Demo: TfL Network Operations Centre', ST_SetSRID(ST_MakePoint(-0.1357, 51.4994), 4326)::geography,
                        '24x7', 12, 'Genetec Security Center', ARRAY['mp4'], 14)
                RETURNING id
                """
            )[0].decode(0)
            try await connection.query(
                "INSERT INTO control_room_boroughs (control_room_id, gss_code) SELECT $1, gss_code FROM boroughs", tflRoom
            )
            let business: UUID = try await connection.query(
                """
                INSERT INTO organisations (kind, name) VALUES ('business', 'Demo: Thameside Retail Partnership')
                ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id
                """
            )[0].decode(0)
            // Every borough room works with its force: police staff embedded in a few, a remote link to some, visits elsewhere;
            // BTP has a remote link to TfL's centre.
            try await connection.query(
                """
                INSERT INTO embedding_arrangements (control_room_id, police_org_id, model, staff_count, hours_per_week, starts_on,
                                                   agreement_ref, review_due_on)
                SELECT r.id,
                       CASE WHEN b.gss_code = 'E09000001' THEN sightline_reference_id('CoLP') ELSE sightline_reference_id('MPS') END,
                       m.model, CASE m.model WHEN 'embedded' THEN 2 + floor(random() * 4)::int WHEN 'visiting' THEN 0 ELSE 1 END,
                       CASE m.model WHEN 'embedded' THEN 37.5 * (1 + floor(random() * 4)) ELSE NULL END,
                       date '2016-01-01' + floor(random() * 3000)::int, 'ISA-' || b.gss_code || '-' || m.model, current_date + 30 + floor(random() * 700)::int
                FROM control_rooms r JOIN boroughs b ON b.organisation_id = r.operator_org_id
                CROSS JOIN LATERAL (SELECT CASE WHEN b.gss_code IN ('E09000001', 'E09000033', 'E09000028', 'E09000022') THEN 'embedded'
                                                WHEN b.gss_code IN ('E09000007', 'E09000019', 'E09000030', 'E09000012') THEN 'remote_link'
                                                ELSE 'visiting' END AS model) AS m
                WHERE r.name LIKE 'Demo: %'
                UNION ALL
                SELECT $1, sightline_reference_id('BTP'), 'remote_link', 1, NULL, date '2021-04-01', 'ISA-TfL-BTP', current_date + 90
                """,
                tflRoom
            )
            let reference = try await connection.query("SELECT sightline_reference_id('TfL'), sightline_reference_id('MPS')")[0]
            let (tfl, mps): (UUID, UUID) = (try reference.decode(0), try reference.decode(1))
            var cameras = try await Self.generate(boroughCameras, owner: .boroughs, on: connection)
            cameras += try await Self.generate(
                boroughCameras / 20, owner: .organisation(tfl, room: tflRoom, kinds: ["fixed", "ptz", "anpr"]), on: connection)
            cameras += try await Self.generate(
                boroughCameras / 40, owner: .organisation(business, room: nil, kinds: ["fixed", "doorbell", "multi_sensor"]), on: connection)
            cameras += try await Self.generate(
                5, owner: .organisation(mps, room: nil, kinds: ["redeployable"]), covert: true, on: connection
            )
            try await connection.recordAudit(
                actor.event("registry.seed_demo", .success, detail: ["rooms": .integer(rooms + 1), "cameras": .integer(cameras)])
            )
            return (rooms + 1, cameras)
        }
    }

    /// Gives demonstration rooms the cost facts appraisals read (staff in full-time equivalents, about five per
    /// operator position, and a review date in the last quarter), where a room has none yet.
    public func fillDemoCostFacts() async throws {
        try await database.withConnection { connection in
            try await connection.query(
                """
                UPDATE control_rooms SET staff_fte = round((coalesce(operator_positions, 4) * (4.6 + random()))::numeric, 1),
                       costs_reviewed_on = current_date - floor(random() * 90)::int
                WHERE name LIKE 'Demo: %' AND staff_fte IS NULL
                """
            )
        }
    }

    /// Adds `count` synthetic cameras owned by the borough authorities, spread uniformly over London (so over
    /// each borough in proportion to its area); returns how many it added.
    public func addSyntheticCameras(count: Int, actor: AuditActor) async throws -> Int {
        let added = try await database.withTransaction { connection in try await Self.generate(count, owner: .boroughs, on: connection) }
        try await database.withConnection { connection in
            try await connection.recordAudit(actor.event("registry.seed_synthetic", .success, detail: ["cameras": .integer(added)]))
        }
        return added
    }

    private enum Owner {
        /// Each borough's authority, monitored by a room serving the borough.
        case boroughs
        /// One organisation, in one room or none, with these kinds.
        case organisation(UUID, room: UUID?, kinds: [String])
    }

    /// Generates `count` cameras at random points inside London, each registered to the borough it falls in,
    /// and returns how many.
    private static func generate(_ count: Int, owner: Owner, covert: Bool = false, on connection: PostgresConnection) async throws -> Int {
        guard count > 0 else { return 0 }
        let ownerID: UUID?
        let room: UUID?
        let kinds: [String]
        switch owner {
        case .boroughs:
            (ownerID, room, kinds) = (nil, nil, ["fixed", "fixed", "fixed", "ptz", "ptz", "multi_sensor", "anpr", "redeployable", "other"])
        case .organisation(let id, let roomID, let ownKinds):
            (ownerID, room, kinds) = (id, roomID, ownKinds)
        }
        return try await connection.query(
            """
            WITH london AS (
                SELECT ST_Union(boundary) AS area FROM borough_boundaries
            ), points AS (
                -- Uniform over London, so each borough gets cameras in proportion to its area.
                SELECT found.gss_code, found.organisation_id, dumped.geom
                FROM london, LATERAL ST_Dump(ST_GeneratePoints(london.area, $1::int)) AS dumped
                CROSS JOIN LATERAL (
                    SELECT bb.gss_code, b.organisation_id FROM borough_boundaries bb JOIN boroughs b USING (gss_code)
                    WHERE ST_Covers(bb.boundary, dumped.geom) ORDER BY bb.gss_code LIMIT 1
                ) AS found
            ), made AS (
                INSERT INTO cameras (owner_org_id, control_room_id, kind, location, borough_gss, heading_deg, field_of_view_deg,
                                     max_dori, status, commissioned_on, decommissioned_on, condition, public_space, covert, external_ref)
                SELECT coalesce($2, p.organisation_id),
                       CASE WHEN $2::uuid IS NULL
                            THEN (SELECT s.control_room_id FROM control_room_boroughs s JOIN control_rooms r ON r.id = s.control_room_id
                                  WHERE s.gss_code = p.gss_code AND r.operator_org_id <> sightline_reference_id('TfL')
                                  ORDER BY s.control_room_id LIMIT 1)
                            ELSE $3 END,
                       ($4::text[])[1 + floor(random() * cardinality($4::text[]))::int], p.geom::geography, p.gss_code,
                       floor(random() * 360), 40 + floor(random() * 80),
                       (ARRAY['identify', 'recognise', 'observe', 'detect', 'monitor'])[1 + floor(random() * 5)::int],
                       CASE WHEN life.r < 0.12 THEN 'decommissioned' WHEN life.r < 0.15 THEN 'faulty' ELSE 'operational' END,
                       life.commissioned,
                       CASE WHEN life.r < 0.12 THEN least(life.commissioned + 365 + floor(random() * 2500)::int, current_date) END,
                       1 + floor(random() * 5)::int, NOT $5, $5,
                       -- The owner's own reference, as its asset register would have it (random, so unique per owner).
                       'CAM-' || upper(substr(md5(random()::text || clock_timestamp()::text), 1, 10))
                FROM points p
                CROSS JOIN LATERAL (SELECT random() AS r, date '2003-01-01' + floor(random() * 7600)::int AS commissioned
                                    WHERE p.geom IS NOT NULL) AS life  -- referencing p makes it run once per point
                RETURNING 1
            )
            SELECT count(*) FROM made
            """,
            count, ownerID, room, kinds, covert
        )[0].decode(0)
    }
}
