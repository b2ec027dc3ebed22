import Domain
import Foundation
import LibPQ

/// A synthetic history of evidence requests and their tasks, for the benchmarks (a year of a million requests) and
/// the demo (a week), written in bulk by SQL.
///
/// Each request is made by the MPS (85 %), BTP (10 %) or the City of London Police (5 %), a quarter of them urgent,
/// at a camera of a random holder (an active room, or an owner for the cameras no room monitors), with that
/// holder's task and up to two more holders'. Each task then lives a
/// plausible life on the clock of its deadlines: acknowledged after an exponential wait (mean 40 minutes when
/// urgent, 8 hours when standard), rejected or cancelled instead now and then, a tenth never answered and
/// cancelled by the requester three days on; three quarters of those acknowledged exported (mean 10 hours or
/// 2 days later), most of them collected a few days after; the rest without footage. Whatever would happen after
/// `now` has not happened yet, so the latest tasks are live. Items and their custody are not generated.
public struct EvidenceHistorySeeder: Sendable {
    private let database: Database
    private let sla: EvidenceSLA

    /// A seeder over `database`, setting deadlines by `sla`.
    public init(_ database: Database, sla: EvidenceSLA = .standard) {
        self.database = database
        self.sla = sla
    }

    /// Whether a synthetic history was added before.
    public func hasHistory() async throws -> Bool {
        try await database.withConnection { connection in
            !(try await connection.query("SELECT 1 FROM evidence_requests WHERE authorised_by = 'Synthetic history' LIMIT 1")).isEmpty
        }
    }

    /// Adds `requests` requests spread evenly over the `days` days before `now`, in transactions of at most 50,000
    /// requests. Every wait is multiplied by `pace` (a demo's holders work four times as fast with 0.25). With
    /// `settled`, a task that would still be live at `now` is cancelled a minute before it instead, so that a demo's
    /// queues hold only what the walk-through makes. Returns how many requests and tasks it added.
    public func addHistory(requests: Int, days: Int, now: Date, pace: Double = 1, settled: Bool = false, actor: AuditActor) async throws -> (
        requests: Int, tasks: Int
    ) {
        let chunk = 50_000
        var added = (requests: 0, tasks: 0)
        let span = Double(days * 86_400)
        var offset = 0
        while offset < requests {
            let size = min(chunk, requests - offset)
            // Each chunk covers its own slice of the period, so the references of a year come out in time order.
            let from = now.addingTimeInterval(-span + span * Double(offset) / Double(requests))
            let to = now.addingTimeInterval(-span + span * Double(offset + size) / Double(requests))
            let tasks = try await database.withTransaction { connection in
                try await addChunk(size, from: from, to: to, now: now, pace: pace, settled: settled, on: connection)
            }
            added.requests += size
            added.tasks += tasks
            offset += size
        }
        try await database.withConnection { connection in
            try await connection.recordAudit(
                actor.event(
                    "evidence.seed_history", .success,
                    detail: ["requests": .integer(added.requests), "tasks": .integer(added.tasks), "days": .integer(days)]))
        }
        return added
    }

    private func addChunk(_ count: Int, from: Date, to: Date, now: Date, pace: Double, settled: Bool, on connection: PostgresConnection) async throws
        -> Int
    {
        func minutes(_ duration: Duration?) -> Double { (duration ?? .seconds(86_400)).seconds / 60 }
        try await connection.query(
            """
            CREATE TEMPORARY TABLE syn_rooms ON COMMIT DROP AS
            SELECT row_number() OVER (ORDER BY h.id, h.operator)::int AS n, h.id, h.operator, h.cameras, h.places
            FROM (
                -- Each holder: an active room, or an owner for its cameras no room monitors; at most 2,000 cameras each.
                SELECT c.room AS id, c.operator, array_agg(c.id ORDER BY c.id) AS cameras, array_agg(c.location ORDER BY c.id) AS places
                FROM (
                    SELECT c.id, c.location, c.control_room_id AS room, coalesce(r.operator_org_id, c.owner_org_id) AS operator,
                           row_number() OVER (PARTITION BY c.control_room_id, coalesce(r.operator_org_id, c.owner_org_id) ORDER BY c.id) AS k
                    FROM cameras c LEFT JOIN control_rooms r ON r.id = c.control_room_id
                    WHERE NOT c.covert AND c.status = 'operational' AND (c.control_room_id IS NULL OR r.status = 'active')
                ) c
                WHERE c.k <= 2000
                GROUP BY c.room, c.operator
            ) h
            """)
        let rooms: Int = try await connection.query("SELECT count(*) FROM syn_rooms")[0].decode(0)
        guard rooms > 0 else { throw StateConflict("No operational camera has a holder: load a registry first.") }
        // The requests, each at a camera of its first room.
        try await connection.query(
            """
            CREATE TEMPORARY TABLE syn_requests ON COMMIT DROP AS
            SELECT gen_random_uuid() AS id, t.created_at, t.urgent, t.room, t.place,
                   CASE WHEN t.who < 0.85 THEN sightline_reference_id('MPS') WHEN t.who < 0.95 THEN sightline_reference_id('BTP')
                        ELSE sightline_reference_id('CoLP') END AS requester,
                   t.created_at - (1 + t.hours) * interval '1 hour' AS window_from
            FROM (
                SELECT x.created_at, x.urgent, rm.n AS room, rm.places[1 + floor(random() * cardinality(rm.places))::int] AS place, x.who,
                       x.hours
                FROM (
                    -- Volatile, so computed once per row before the join.
                    SELECT $2::timestamptz + random() * ($3::timestamptz - $2::timestamptz) AS created_at, random() < 0.25 AS urgent,
                           1 + floor(random() * $4::int)::int AS room, random() AS who, floor(random() * 48) AS hours
                    FROM generate_series(1, $1::int)
                ) x
                JOIN syn_rooms rm ON rm.n = x.room
            ) t
            """,
            count, from, to, rooms)
        try await connection.query(
            """
            INSERT INTO evidence_requests (id, reference, requester_org_id, crime_reference, offence, priority, legal_basis, authorised_by,
                                           location, radius_m, window_from, window_to, status, created_at, updated_at)
            SELECT q.id, evidence_reference(q.created_at), q.requester, 'SYN ' || upper(substr(md5(q.id::text), 1, 8)),
                   (ARRAY['robbery', 'assault', 'theft from person', 'criminal damage', 'burglary', 'public order'])[1 + floor(random() * 6)::int],
                   CASE WHEN q.urgent THEN 'urgent' ELSE 'standard' END, 'DPA 2018 Sch. 2 Pt. 1 para. 2', 'Synthetic history',
                   q.place, 100, q.window_from, q.window_from + interval '1 hour', 'open', q.created_at, q.created_at
            FROM syn_requests q ORDER BY q.created_at
            """)
        // Each request's rooms (its first, and each of two more with chance 0.6 and 0.3) and each task's life.
        try await connection.query(
            """
            CREATE TEMPORARY TABLE syn_tasks ON COMMIT DROP AS
            SELECT gen_random_uuid() AS id, q.id AS request_id, q.requester, rm.operator AS holder, rm.id AS room,
                   rm.cameras[1 + floor(random() * cardinality(rm.cameras))::int] AS camera, q.urgent, q.created_at,
                   q.window_from + interval '31 days' AS overwrite_at,
                   q.created_at + CASE WHEN q.urgent THEN $1 ELSE $2 END * interval '1 minute' AS ack_due_at,
                   q.created_at + CASE WHEN q.urgent THEN $3 ELSE $4 END * interval '1 minute' AS export_due_at,
                   q.created_at + (-ln(1 - random()) * CASE WHEN q.urgent THEN 40 ELSE 480 END * $6) * interval '1 minute' AS answer_at,
                   random() AS fate, -ln(1 - random()) * CASE WHEN q.urgent THEN 600 ELSE 2880 END * $6 AS export_minutes,
                   (1 + random() * 3) * $6 AS collect_days, 3 * $6 AS give_up_days
            FROM syn_requests q
            CROSS JOIN LATERAL (
                SELECT q.room AS n
                UNION SELECT 1 + floor(random() * $5::int)::int WHERE random() < 0.6 AND q.room > 0
                UNION SELECT 1 + floor(random() * $5::int)::int WHERE random() < 0.3 AND q.room > 0
            ) AS chosen
            JOIN syn_rooms rm ON rm.n = chosen.n
            """,
            minutes(sla.acknowledge[.urgent]), minutes(sla.acknowledge[.standard]), minutes(sla.export[.urgent]), minutes(sla.export[.standard]),
            rooms, pace)
        // Each task's events, then what of them has happened by `now`.
        try await connection.query(
            """
            CREATE TEMPORARY TABLE syn_lives ON COMMIT DROP AS
            SELECT t.*, e.acknowledged_at, e.exported_at, e.settled_at, e.final
            FROM syn_tasks t CROSS JOIN LATERAL (
                SELECT CASE WHEN t.fate >= 0.10 AND t.answer_at <= $1 THEN t.answer_at END AS acknowledged_at,
                       CASE WHEN t.fate >= 0.22 AND t.answer_at + t.export_minutes * interval '1 minute' <= $1
                            THEN t.answer_at + t.export_minutes * interval '1 minute' END AS exported_at,
                       CASE WHEN t.fate < 0.07 AND t.answer_at <= $1 THEN t.answer_at
                            WHEN t.fate < 0.10 AND t.created_at + t.give_up_days * interval '1 day' <= $1
                                THEN t.created_at + t.give_up_days * interval '1 day'
                            WHEN t.fate >= 0.10 AND t.fate < 0.22 AND t.answer_at + t.export_minutes * interval '1 minute' <= $1
                                THEN t.answer_at + t.export_minutes * interval '1 minute'
                            WHEN t.fate >= 0.22 AND t.fate < 0.90
                                 AND t.answer_at + t.export_minutes * interval '1 minute' + t.collect_days * interval '1 day' <= $1
                                THEN t.answer_at + t.export_minutes * interval '1 minute' + t.collect_days * interval '1 day' END AS settled_at,
                       CASE WHEN t.fate < 0.04 THEN 'rejected' WHEN t.fate < 0.10 THEN 'cancelled' WHEN t.fate < 0.22 THEN 'no_footage'
                            WHEN t.fate < 0.90 THEN 'collected' ELSE 'exported' END AS final
            ) e
            """,
            now)
        let tasks: Int = try await connection.query(
            """
            WITH made AS (
                INSERT INTO evidence_tasks (id, request_id, requester_org_id, holder_org_id, control_room_id, status, priority, ack_due_at,
                                            export_due_at, overwrite_at, at_risk, hold_until, acknowledged_at, outcome_reason, exported_at,
                                            settled_at, hold_released_at, created_at, updated_at)
                SELECT l.id, l.request_id, l.requester, l.holder, l.room, s.status, CASE WHEN l.urgent THEN 'urgent' ELSE 'standard' END,
                       l.ack_due_at, l.export_due_at, l.overwrite_at, l.overwrite_at < l.ack_due_at,
                       CASE WHEN s.acknowledged_at IS NOT NULL THEN l.overwrite_at + interval '60 days' END, s.acknowledged_at,
                       CASE s.status WHEN 'rejected' THEN 'other' WHEN 'no_footage' THEN 'camera_not_recording' END,
                       s.exported_at, s.settled_at, CASE WHEN s.acknowledged_at IS NOT NULL THEN s.settled_at END,
                       l.created_at, coalesce(s.settled_at, s.exported_at, s.acknowledged_at, l.created_at)
                FROM syn_lives l CROSS JOIN LATERAL (
                    SELECT CASE WHEN l.settled_at IS NOT NULL THEN l.final
                                WHEN $1 AND l.exported_at IS NULL THEN 'cancelled'
                                WHEN l.exported_at IS NOT NULL THEN 'exported'
                                WHEN l.acknowledged_at IS NOT NULL THEN 'acknowledged' ELSE 'pending' END AS status,
                           l.acknowledged_at, l.exported_at,
                           coalesce(l.settled_at, CASE WHEN $1 AND l.exported_at IS NULL THEN $2::timestamptz - interval '1 minute' END) AS settled_at
                ) s
                RETURNING id, status
            ), cameras AS (
                INSERT INTO evidence_task_cameras (task_id, camera_id, overwrite_at, outcome)
                SELECT m.id, l.camera, l.overwrite_at,
                       CASE m.status WHEN 'exported' THEN 'exported' WHEN 'collected' THEN 'exported' WHEN 'no_footage' THEN 'no_footage'
                                     WHEN 'rejected' THEN 'rejected' WHEN 'cancelled' THEN 'cancelled' ELSE 'pending' END
                FROM made m JOIN syn_lives l USING (id)
                RETURNING 1
            )
            SELECT count(*) FROM made
            """,
            settled, now
        )[0].decode(0)
        // Each request's status, derived from its tasks as the service derives it.
        try await connection.query(
            """
            UPDATE evidence_requests q SET status = d.status, updated_at = d.updated_at
            FROM (
                SELECT t.request_id,
                       CASE WHEN bool_or(t.status IN ('pending', 'acknowledged')) THEN 'open'
                            WHEN bool_or(t.status IN ('exported', 'collected')) THEN 'completed'
                            WHEN bool_and(t.status = 'cancelled') THEN 'cancelled' ELSE 'no_footage' END AS status,
                       max(t.updated_at) AS updated_at
                FROM evidence_tasks t JOIN syn_requests r ON r.id = t.request_id GROUP BY t.request_id
            ) d
            WHERE q.id = d.request_id
            """)
        try await connection.query("DROP TABLE syn_lives, syn_tasks, syn_requests, syn_rooms")
        return tasks
    }
}
