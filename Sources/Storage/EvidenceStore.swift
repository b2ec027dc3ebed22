import Domain
import Foundation
import LibPQ

/// Evidence requests and their tasks (DESIGN §4.1).
///
/// Every change locks the request row before any of its tasks, so two tasks of one request settling at once
/// still derive the request's status from each other's outcome.
public struct EvidenceStore: Sendable {
    private let database: Database
    private var clock: any WallClock { database.clock }

    /// A store over `database`, reading the time from its clock: every deadline is computed from it, once per change.
    public init(_ database: Database) { self.database = database }

    /// A request with its tasks and the cameras it left out.
    public struct RequestDetail: Sendable {
        public var request: EvidenceRequest
        public var tasks: [EvidenceTask]
        public var exclusions: [ExcludedCamera]
    }

    static let requestColumns = """
        q.id, q.reference, q.requester_org_id, q.crime_reference, q.incident_reference, q.offence, q.priority, q.legal_basis, q.authorised_by,
        ST_Y(q.location::geometry), ST_X(q.location::geometry), q.radius_m, q.window_from, q.window_to, q.required_dori, q.camera_ids, q.notes,
        q.status, q.status_reason, q.created_at, q.updated_at, q.version
        """

    static let taskColumns = """
        t.id, t.request_id, q.reference, t.requester_org_id, t.holder_org_id, t.control_room_id, t.status, t.priority, t.ack_due_at,
        t.export_due_at, t.overwrite_at, t.at_risk, t.hold_until, t.acknowledged_at, t.outcome_reason, t.outcome_notes, t.covert,
        t.created_at, t.updated_at, t.version
        """

    // MARK: Creating

    /// Records a request, selects its cameras and creates one task per holder, all in one transaction with the
    /// audit row and events.
    ///
    /// Cameras come from within the radius (in service during the window, able to reach the DORI level) and
    /// from `draft.cameraIDs`; covert ones only as `visibility` allows. An explicit id that is not a camera the
    /// caller may know of is a `ValidationError` at `/camera_ids/<n>`, the same for a covert camera as for none.
    public func create(
        _ draft: EvidenceRequestDraft, requesterOrganisationID: UUID, requesterKeyID: UUID?, visibility: CovertVisibility, sla: EvidenceSLA,
        actor: AuditActor
    ) async throws -> RequestDetail {
        let now = clock.now()
        return try await database.withTransaction { connection in
            let covert = CameraStore.covertParameters(visibility)
            let rows = try await connection.query(
                """
                SELECT c.id, c.owner_org_id, c.control_room_id, r.operator_org_id, c.covert,
                       $1::timestamptz + make_interval(days => coalesce(c.retention_days, r.default_retention_days, 31)), life.in_service
                FROM cameras c LEFT JOIN control_rooms r ON r.id = c.control_room_id
                CROSS JOIN LATERAL (
                    -- In service during the window: not merely planned, commissioned by its end, not decommissioned before its start.
                    SELECT c.status <> 'planned'
                           AND (c.commissioned_on IS NULL OR c.commissioned_on <= ($2::timestamptz AT TIME ZONE 'UTC')::date)
                           AND (c.decommissioned_on IS NULL OR c.decommissioned_on >= ($1::timestamptz AT TIME ZONE 'UTC')::date) AS in_service
                ) AS life
                WHERE (NOT c.covert OR $3 OR c.owner_org_id = $4)
                  AND (c.id = ANY ($5::uuid[])
                       OR (ST_DWithin(c.location, ST_SetSRID(ST_MakePoint($7, $6), 4326)::geography, $8)
                           AND life.in_service
                           AND ($9::text IS NULL OR array_position(ARRAY['monitor', 'detect', 'observe', 'recognise', 'identify'], c.max_dori)
                                                    >= array_position(ARRAY['monitor', 'detect', 'observe', 'recognise', 'identify'], $9))))
                """,
                draft.windowFrom, draft.windowTo, covert.all, covert.owner, draft.cameraIDs, draft.location.lat, draft.location.lon,
                Double(draft.radiusMetres), draft.requiredDORI?.rawValue
            )
            let candidates = try rows.map { row in
                EvidenceCandidate(
                    cameraID: try row.decode(0), ownerOrganisationID: try row.decode(1), controlRoomID: try row.decode(2),
                    roomOperatorID: try row.decode(3), overwriteAt: try row.decode(5), inService: try row.decode(6), covert: try row.decode(4)
                )
            }
            let found = Set(candidates.map(\.cameraID))
            let unknown = draft.cameraIDs.enumerated().filter { !found.contains($0.element) }
            guard unknown.isEmpty else {
                throw ValidationError(unknown.map { FieldProblem(pointer: "/camera_ids/\($0.offset)", detail: "is not a camera") })
            }
            let plan = EvidencePlan.make(candidates: candidates, priority: draft.priority, now: now, sla: sla)

            let row = try await connection.query(
                """
                INSERT INTO evidence_requests (reference, requester_org_id, requester_key_id, crime_reference, incident_reference, offence, priority,
                                               legal_basis, authorised_by, location, radius_m, window_from, window_to, required_dori, camera_ids,
                                               notes, status, status_reason, created_at, updated_at)
                VALUES (evidence_reference($19), $1, $2, $3, $4, $5, $6, $7, $8, ST_SetSRID(ST_MakePoint($10, $9), 4326)::geography, $11, $12, $13,
                        $14, $15, $16, $17, $18, $19, $19)
                RETURNING id, reference
                """,
                requesterOrganisationID, requesterKeyID, draft.crimeReference, draft.incidentReference, draft.offence, draft.priority.rawValue,
                draft.legalBasis, draft.authorisedBy, draft.location.lat, draft.location.lon, draft.radiusMetres, draft.windowFrom, draft.windowTo,
                draft.requiredDORI?.rawValue, draft.cameraIDs, draft.notes, plan.initialStatus.rawValue, plan.emptyReason, now
            )[0]
            let request = EvidenceRequest(
                id: try row.decode(0), reference: try row.decode(1), requesterOrganisationID: requesterOrganisationID, draft: draft,
                status: plan.initialStatus, statusReason: plan.emptyReason, createdAt: now, updatedAt: now, version: 1
            )
            let detail = try await Self.insert(plan, of: request, on: connection)
            try await connection.recordAudit(
                actor.event(
                    "evidence_request.create", .success, entityType: "evidence_request", entityID: request.id.uuidString.lowercased(),
                    detail: [
                        "reference": .string(request.reference), "tasks": .integer(plan.tasks.count),
                        "cameras": .integer(plan.tasks.reduce(0) { $0 + $1.cameras.count }), "excluded": .integer(plan.exclusions.count),
                    ]
                )
            )
            return detail
        }
    }

    /// Writes a plan's tasks, their cameras, the exclusions and the creation events in one statement, and returns
    /// the request's detail as it now stands: what was written, so the caller need not read it back.
    private static func insert(_ plan: EvidencePlan, of request: EvidenceRequest, on connection: PostgresConnection) async throws -> RequestDetail {
        let requestID = request.id
        let reference = request.reference
        let requester = request.requesterOrganisationID
        let priority = request.draft.priority
        var written: [EvidenceTask] = []
        var tasks: [TaskRecord] = []
        var cameras: [TaskCameraRecord] = []
        var events: [DomainEvent] = [
            .evidenceRequest(
                .evidenceRequestCreated, id: requestID, version: 1, reference: reference, status: plan.initialStatus, requester: requester,
                visibleHolders: plan.tasks.filter { !$0.covert }.map(\.holder.organisationID)
            )
        ]
        for task in plan.tasks {
            let id = UUID()
            tasks.append(
                TaskRecord(
                    id: id, holder_org_id: task.holder.organisationID, control_room_id: task.holder.controlRoomID, ack_due_at: task.ackDueAt,
                    export_due_at: task.exportDueAt, overwrite_at: task.overwriteAt, at_risk: task.atRisk, covert: task.covert
                )
            )
            cameras += task.cameras.map { TaskCameraRecord(task_id: id, camera_id: $0.cameraID, overwrite_at: $0.overwriteAt, covert: $0.covert) }
            let created = EvidenceTask(
                id: id, requestID: requestID, reference: reference, requesterOrganisationID: requester, holder: task.holder, status: .pending,
                priority: priority, ackDueAt: task.ackDueAt, exportDueAt: task.exportDueAt, overwriteAt: task.overwriteAt, atRisk: task.atRisk,
                holdUntil: nil, acknowledgedAt: nil, outcomeReason: nil, outcomeNotes: nil, covert: task.covert,
                cameras: task.cameras.map {
                    EvidenceTask.Camera(cameraID: $0.cameraID, overwriteAt: $0.overwriteAt, covert: $0.covert, outcome: .pending)
                },
                createdAt: request.createdAt, updatedAt: request.createdAt, version: 1
            )
            written.append(created)
            events.append(.evidenceTask(.evidenceTaskCreated, created))
        }
        let exclusions = plan.exclusions.map {
            ExclusionRecord(camera_id: $0.camera.cameraID, reason: $0.reason.rawValue, overwrite_at: $0.camera.overwriteAt, covert: $0.camera.covert)
        }
        let encoder = JSONEncoder.postgres
        try await connection.query(
            """
            WITH tasks AS (
                INSERT INTO evidence_tasks (id, request_id, requester_org_id, holder_org_id, control_room_id, priority, ack_due_at, export_due_at,
                                            overwrite_at, at_risk, covert, created_at, updated_at)
                SELECT id, $1, $2, holder_org_id, control_room_id, $3, to_timestamp(ack_due_at), to_timestamp(export_due_at),
                       to_timestamp(overwrite_at), at_risk, covert, $8, $8
                FROM jsonb_to_recordset($4::jsonb) AS x(id uuid, holder_org_id uuid, control_room_id uuid, ack_due_at float8,
                                                         export_due_at float8, overwrite_at float8, at_risk bool, covert bool)
            ), cameras AS (
                INSERT INTO evidence_task_cameras (task_id, camera_id, overwrite_at, covert)
                SELECT task_id, camera_id, to_timestamp(overwrite_at), covert
                FROM jsonb_to_recordset($5::jsonb) AS x(task_id uuid, camera_id uuid, overwrite_at float8, covert bool)
            ), exclusions AS (
                INSERT INTO evidence_request_exclusions (request_id, camera_id, reason, overwrite_at, covert)
                SELECT $1, camera_id, reason, to_timestamp(overwrite_at), covert
                FROM jsonb_to_recordset($6::jsonb) AS x(camera_id uuid, reason text, overwrite_at float8, covert bool)
            )
            INSERT INTO events (type, subject, sequence, audience, covert, payload, created_at)
            SELECT type, subject, sequence, audience, covert, payload, $8
            FROM jsonb_to_recordset($7::jsonb) AS e(type text, subject text, sequence int, audience uuid[], covert bool, payload jsonb)
            """,
            requestID, requester, priority.rawValue, String(decoding: try encoder.encode(tasks), as: UTF8.self),
            String(decoding: try encoder.encode(cameras), as: UTF8.self), String(decoding: try encoder.encode(exclusions), as: UTF8.self),
            try DomainEvent.recordset(events), request.createdAt
        )
        // The order `detail(_:on:)` reads them in: tasks by overwrite and id, cameras and exclusions by camera id.
        return RequestDetail(
            request: request,
            tasks: written.sorted { ($0.overwriteAt, $0.id.uuidString) < ($1.overwriteAt, $1.id.uuidString) },
            exclusions: plan.exclusions.map {
                ExcludedCamera(cameraID: $0.camera.cameraID, reason: $0.reason, overwriteAt: $0.camera.overwriteAt, covert: $0.camera.covert)
            }
        )
    }

    // MARK: Reading

    /// The request with `id` as `caller` may see it (its requester organisation's; covert tasks, cameras and
    /// exclusions only as `visibility` allows), or `nil`.
    public func request(id: UUID, organisationID: UUID, visibility: CovertVisibility) async throws -> RequestDetail? {
        try await database.withConnection { connection in
            let exists = try await connection.query("SELECT 1 FROM evidence_requests WHERE id = $1 AND requester_org_id = $2", id, organisationID)
            guard !exists.isEmpty else { return nil }
            return try await Self.detail(id, on: connection).visible(to: visibility)
        }
    }

    /// One page of `organisationID`'s requests, newest first.
    public func requests(organisationID: UUID, filter: EvidenceRequestFilter, page: PageRequest) async throws -> Page<EvidenceRequest> {
        let after = page.cursor?.key
        guard after == nil || (after?.count == 2 && Double(after![0]) != nil && UUID(uuidString: after![1]) != nil) else {
            throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")])
        }
        let rows = try await database.withConnection { connection in
            try await connection.query(
                "SELECT " + Self.requestColumns + """
                     FROM evidence_requests q
                    WHERE q.requester_org_id = $1
                      AND ($2::text IS NULL OR q.status = $2)
                      AND ($3::text IS NULL OR q.crime_reference = $3)
                      AND ($4::float8 IS NULL OR (q.created_at, q.id) < (to_timestamp($4), $5::uuid))
                    ORDER BY q.created_at DESC, q.id DESC
                    LIMIT $6
                    """,
                organisationID, filter.status?.rawValue, filter.crimeReference, after.flatMap { Double($0[0]) },
                after.flatMap { UUID(uuidString: $0[1]) }, page.limit + 1
            )
        }
        return Page(fetched: try rows.map(EvidenceRequest.init(row:)), limit: page.limit) {
            [String(format: "%.6f", $0.createdAt.timeIntervalSince1970), $0.id.uuidString]
        }
    }

    /// The task with `id`, whoever may see it (the caller's rules decide), or `nil`.
    public func task(id: UUID) async throws -> EvidenceTask? {
        try await database.withConnection { connection in try await Self.tasks(where: "t.id = $1", [id], on: connection).first }
    }

    /// One page of the tasks `organisationID` holds or asked for: at-risk first, then live tasks by their nearest
    /// deadline, then settled ones; covert tasks only as `visibility` allows.
    public func tasks(
        organisationID: UUID, visibility: CovertVisibility, filter: EvidenceTaskFilter, page: PageRequest
    ) async throws -> Page<EvidenceTask> {
        let after = page.cursor?.key
        guard after == nil || (after?.count == 3 && Int(after![0]) != nil && Double(after![1]) != nil && UUID(uuidString: after![2]) != nil) else {
            throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")])
        }
        let covert = CameraStore.covertParameters(visibility)
        // The queue order as one sort key: rank (0 at risk and live, 1 live, 2 settled), then the deadline that
        // matters now, then id.
        let rank = "(CASE WHEN t.status IN ('pending', 'acknowledged') THEN (CASE WHEN t.at_risk THEN 0 ELSE 1 END) ELSE 2 END)"
        let deadline =
            "extract(epoch FROM CASE t.status WHEN 'pending' THEN t.ack_due_at WHEN 'acknowledged' THEN t.export_due_at ELSE t.created_at END)"
        return try await database.withConnection { connection in
            let tasks = try await Self.tasks(
                where: """
                    (t.requester_org_id = $1 OR t.holder_org_id = $1)
                      AND (NOT t.covert OR $2 OR t.holder_org_id = $3)
                      AND ($4::text IS NULL OR t.status = $4)
                      AND ($5::uuid IS NULL OR t.control_room_id = $5)
                      AND ($6::text IS NULL OR t.priority = $6)
                      AND ($7::uuid IS NULL OR t.request_id = $7)
                      AND ($8::int IS NULL OR (
                    """ + rank + ", " + deadline + ", t.id) > ($8, $9::float8, $10::uuid))",
                [
                    organisationID, covert.all, covert.owner, filter.status?.rawValue, filter.controlRoomID, filter.priority?.rawValue,
                    filter.requestID,
                    after.flatMap { Int($0[0]) }, after.flatMap { Double($0[1]) }, after.flatMap { UUID(uuidString: $0[2]) },
                ],
                order: rank + ", " + deadline + ", t.id", limit: page.limit + 1, on: connection
            )
            return Page(fetched: tasks.map { $0.visible(to: visibility) }, limit: page.limit) { task in
                let rank = task.status.isLive ? (task.atRisk ? 0 : 1) : 2
                let deadline = task.status == .pending ? task.ackDueAt : task.status == .acknowledged ? task.exportDueAt : task.createdAt
                return [String(rank), String(format: "%.6f", deadline.timeIntervalSince1970), task.id.uuidString]
            }
        }
    }

    /// The rooms where `policeOrganisationID` has an `embedded` arrangement in force today: where its embedded
    /// officers may act for the holder (§4.1 step 6).
    public func embeddedRooms(policeOrganisationID: UUID) async throws -> Set<UUID> {
        let today = Day(clock.now())
        return try await database.withConnection { connection in
            Set(
                try await connection.query(
                    """
                    SELECT control_room_id FROM embedding_arrangements
                    WHERE police_org_id = $1 AND model = 'embedded'
                      AND starts_on <= $2 AND (ends_on IS NULL OR ends_on >= $2)
                    """,
                    policeOrganisationID, PostgresDate(today)
                ).map { try $0.decode(0, as: UUID.self) }
            )
        }
    }

    // MARK: Changing

    /// Moves a task to `next` if it is still at `expectedVersion`, with what the move carries; its camera
    /// outcomes, items (on `collect`), the request's derived status, audit row and events commit with it.
    /// `nil` if there is no such task; throws `PreconditionFailure.stale` if it changed meanwhile and
    /// `StateConflict` for an `export` with no item registered.
    public func transition(
        taskID: UUID, expectedVersion: Int, to next: EvidenceTaskStatus, move: EvidenceTaskMove, holdUntil: Date?, keyID: UUID?, actor: AuditActor
    ) async throws -> EvidenceTask? {
        let now = clock.now()
        return try await database.withTransaction { connection in
            guard let requestRow = try await connection.query("SELECT request_id FROM evidence_tasks WHERE id = $1", taskID).first else { return nil }
            let requestID: UUID = try requestRow.decode(0)
            try await connection.query("SELECT 1 FROM evidence_requests WHERE id = $1 FOR UPDATE", requestID)
            let version: Int = try await connection.query("SELECT version FROM evidence_tasks WHERE id = $1 FOR UPDATE", taskID)[0].decode(0)
            guard version == expectedVersion else { throw PreconditionFailure.stale(currentETag: Preconditions.etag(version: version)) }
            if move.action == .export {
                let items: Int = try await connection.query("SELECT count(*) FROM evidence_items WHERE task_id = $1", taskID)[0].decode(0)
                guard items > 0 else {
                    throw StateConflict("Register at least one item before exporting.", allowedActions: ["reject", "record_no_footage", "cancel"])
                }
            }
            try await Self.move(taskID, to: next, move: move, holdUntil: holdUntil, keyID: keyID, actor: actor, now: now, on: connection)
            try await Self.settle(requestID, now: now, on: connection)
            return try await Self.tasks(where: "t.id = $1", [taskID], on: connection).first
        }
    }

    /// Cancels every live task of a request at `expectedVersion`; `nil` if there is no such request of
    /// `organisationID`. Throws `StateConflict` when no task is live.
    public func cancel(
        requestID: UUID, organisationID: UUID, expectedVersion: Int, notes: String?, visibility: CovertVisibility, actor: AuditActor
    ) async throws -> RequestDetail? {
        let now = clock.now()
        return try await database.withTransaction { connection in
            guard
                let row = try await connection.query(
                    "SELECT version FROM evidence_requests WHERE id = $1 AND requester_org_id = $2 FOR UPDATE", requestID, organisationID
                ).first
            else { return nil }
            let version: Int = try row.decode(0)
            guard version == expectedVersion else { throw PreconditionFailure.stale(currentETag: Preconditions.etag(version: version)) }
            let live: [UUID] = try await connection.query(
                "SELECT id FROM evidence_tasks WHERE request_id = $1 AND status IN ('pending', 'acknowledged') ORDER BY id FOR UPDATE", requestID
            ).map { try $0.decode(0) }
            guard !live.isEmpty else { throw StateConflict("The request has no task left to cancel.", allowedActions: []) }
            for task in live {
                try await Self.move(
                    task, to: .cancelled, move: EvidenceTaskMove(action: .cancel, notes: notes), holdUntil: nil, keyID: nil, actor: actor,
                    now: now, on: connection)
            }
            try await Self.settle(requestID, forceVersionBump: true, now: now, on: connection)
            try await connection.recordAudit(
                actor.event(
                    "evidence_request.cancel", .success, entityType: "evidence_request", entityID: requestID.uuidString.lowercased(),
                    detail: ["tasks_cancelled": .integer(live.count)])
            )
            return try await Self.detail(requestID, on: connection).visible(to: visibility)
        }
    }

    /// One task's move, with its camera outcomes, items, audit row and event.
    private static func move(
        _ taskID: UUID, to next: EvidenceTaskStatus, move: EvidenceTaskMove, holdUntil: Date?, keyID: UUID?, actor: AuditActor, now: Date,
        on connection: PostgresConnection
    ) async throws {
        try await connection.query(
            """
            UPDATE evidence_tasks
            SET status = $2, hold_until = coalesce($3, hold_until),
                acknowledged_at = CASE WHEN $2 = 'acknowledged' THEN $7 ELSE acknowledged_at END,
                acknowledged_by = CASE WHEN $2 = 'acknowledged' THEN $4 ELSE acknowledged_by END,
                outcome_reason = coalesce($5, outcome_reason), outcome_notes = coalesce($6, outcome_notes),
                updated_at = $7, version = version + 1
            WHERE id = $1
            """,
            taskID, next.rawValue, holdUntil, keyID, move.reason, move.notes, now
        )
        if let outcome = EvidenceTaskMachine.cameraOutcome(whenTaskBecomes: next) {
            try await connection.query(
                "UPDATE evidence_task_cameras SET outcome = $2 WHERE task_id = $1 AND outcome = 'pending'", taskID, outcome.rawValue
            )
        }
        if next == .collected {
            let items: [UUID] = try await connection.query(
                """
                UPDATE evidence_items SET status = CASE WHEN status = 'purged' THEN status ELSE 'collected' END, collected_at = $2,
                                          updated_at = $2, version = version + 1
                WHERE task_id = $1 AND collected_at IS NULL
                RETURNING id
                """,
                taskID, now
            ).map { try $0.decode(0) }
            for item in items { try await connection.appendCustody(item, .collected, actor: actor, notes: move.notes) }
        }
        let task = try await tasks(where: "t.id = $1", [taskID], on: connection)[0]
        var detail: JSONObject = ["status": .string(next.rawValue), "version": .integer(task.version)]
        if let reason = move.reason { detail["reason"] = .string(reason) }
        try await connection.recordAudit(
            actor.event(
                "evidence_task." + move.action.rawValue, .success, entityType: "evidence_task", entityID: taskID.uuidString.lowercased(),
                detail: detail)
        )
        try await connection.append(.evidenceTask(.evidenceTask(becoming: next), task), at: now)
    }

    /// Derives the request's status from its tasks and, when it changed (or `forceVersionBump`), records it
    /// with its event: `evidence_request.cancelled`, or `.completed` when it settled otherwise.
    private static func settle(_ requestID: UUID, forceVersionBump: Bool = false, now: Date, on connection: PostgresConnection) async throws {
        let statuses = try await connection.query("SELECT status FROM evidence_tasks WHERE request_id = $1", requestID).map {
            EvidenceTaskStatus(rawValue: try $0.decode(0, as: String.self)) ?? .pending
        }
        let derived = EvidenceTaskMachine.requestStatus(statuses)
        let current: String = try await connection.query("SELECT status FROM evidence_requests WHERE id = $1", requestID)[0].decode(0)
        guard forceVersionBump || current != derived.rawValue else { return }
        let row = try await connection.query(
            """
            UPDATE evidence_requests SET status = $2, updated_at = $3, version = version + 1 WHERE id = $1
            RETURNING version, reference, requester_org_id,
                      ARRAY(SELECT DISTINCT holder_org_id FROM evidence_tasks WHERE request_id = $1 AND NOT covert)
            """,
            requestID, derived.rawValue, now
        )[0]
        guard derived != .open else { return }
        let version: Int = try row.decode(0)
        try await connection.append(
            .evidenceRequest(
                derived == .cancelled ? .evidenceRequestCancelled : .evidenceRequestCompleted, id: requestID, version: version,
                reference: try row.decode(1), status: derived, requester: try row.decode(2), visibleHolders: try row.decode(3)
            ),
            at: now
        )
    }

    // MARK: The scheduler

    /// Raises the alerts due at `now` on up to `limit` live tasks (DESIGN §4.1 step 7): each task's new
    /// version, `at_risk` flag, event and audit row commit together, and `raised` records each alert so it is
    /// raised once. Tasks another instance is working on are skipped. Returns how many alerts were raised.
    public func raiseAlerts(now: Date, limit: Int = 500) async throws -> Int {
        try await database.withTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT id, status, overwrite_at, ack_due_at, export_due_at, raised FROM evidence_tasks
                WHERE status IN ('pending', 'acknowledged')
                  AND ((status = 'pending' AND overwrite_at - interval '24 hours' <= $1 AND NOT 'at_risk_24h' = ANY (raised))
                    OR (status = 'pending' AND overwrite_at - interval '2 hours' <= $1 AND NOT 'at_risk_2h' = ANY (raised))
                    OR (status = 'pending' AND ack_due_at < $1 AND NOT 'ack_breached' = ANY (raised))
                    OR (export_due_at < $1 AND NOT 'export_breached' = ANY (raised)))
                ORDER BY overwrite_at LIMIT $2
                FOR UPDATE SKIP LOCKED
                """,
                now, limit
            )
            var raisedCount = 0
            for row in rows {
                let id: UUID = try row.decode(0)
                let status = EvidenceTaskStatus(rawValue: try row.decode(1, as: String.self)) ?? .pending
                let raised = Set(try row.decode(5, as: [String].self).compactMap(EvidenceAlert.init(rawValue:)))
                let due = EvidenceAlert.due(
                    status: status, overwriteAt: try row.decode(2), ackDueAt: try row.decode(3), exportDueAt: try row.decode(4), raised: raised,
                    now: now
                )
                if !due.mark.isEmpty {
                    try await connection.query(
                        "UPDATE evidence_tasks SET raised = raised || $2::text[] WHERE id = $1", id, due.mark.map(\.rawValue).sorted()
                    )
                }
                for alert in due.raise {
                    try await connection.query(
                        """
                        UPDATE evidence_tasks SET version = version + 1, updated_at = $3, at_risk = at_risk OR $2 WHERE id = $1
                        """,
                        id, alert == .atRisk24h || alert == .atRisk2h, now
                    )
                    let task = try await Self.tasks(where: "t.id = $1", [id], on: connection)[0]
                    try await connection.append(.evidenceTask(alert.eventType, task, alert: alert), at: now)
                    try await connection.recordAudit(
                        AuditActor.scheduler.event(
                            alert.eventType.rawValue, .success, entityType: "evidence_task", entityID: id.uuidString.lowercased(),
                            detail: alert.eventFields)
                    )
                    raisedCount += 1
                }
            }
            return raisedCount
        }
    }

    // MARK: Queries shared by the evidence stores

    static func detail(_ requestID: UUID, on connection: PostgresConnection) async throws -> RequestDetail {
        let request = try EvidenceRequest(
            row: try await connection.query("SELECT " + requestColumns + " FROM evidence_requests q WHERE q.id = $1", requestID)[0])
        let tasks = try await tasks(where: "t.request_id = $1", [requestID], order: "t.overwrite_at, t.id", on: connection)
        let exclusions = try await connection.query(
            "SELECT camera_id, reason, overwrite_at, covert FROM evidence_request_exclusions WHERE request_id = $1 ORDER BY camera_id", requestID
        ).map { row in
            ExcludedCamera(
                cameraID: try row.decode(0), reason: ExclusionReason(rawValue: try row.decode(1, as: String.self)) ?? .alreadyOverwritten,
                overwriteAt: try row.decode(2), covert: try row.decode(3)
            )
        }
        return RequestDetail(request: request, tasks: tasks, exclusions: exclusions)
    }

    /// Tasks matching `condition` (over `evidence_tasks t` joined to `evidence_requests q`), with their cameras.
    static func tasks(
        where condition: String, _ parameters: [(any PostgresEncodable)?], order: String = "t.id", limit: Int? = nil,
        on connection: PostgresConnection
    ) async throws -> [EvidenceTask] {
        var sql = "SELECT " + taskColumns + " FROM evidence_tasks t JOIN evidence_requests q ON q.id = t.request_id WHERE " + condition
        sql += " ORDER BY " + order
        if let limit { sql += " LIMIT " + String(limit) }
        var tasks = try await connection.query(sql, parameters: parameters).map(EvidenceTask.init(row:))
        guard !tasks.isEmpty else { return [] }
        var cameras: [UUID: [EvidenceTask.Camera]] = [:]
        for row in try await connection.query(
            "SELECT task_id, camera_id, overwrite_at, covert, outcome FROM evidence_task_cameras WHERE task_id = ANY ($1::uuid[]) ORDER BY camera_id",
            tasks.map(\.id)
        ) {
            cameras[try row.decode(0), default: []].append(
                EvidenceTask.Camera(
                    cameraID: try row.decode(1), overwriteAt: try row.decode(2), covert: try row.decode(3),
                    outcome: CameraOutcome(rawValue: try row.decode(4, as: String.self)) ?? .pending
                )
            )
        }
        for index in tasks.indices { tasks[index].cameras = cameras[tasks[index].id] ?? [] }
        return tasks
    }
}

extension EvidenceStore.RequestDetail {
    /// The detail without the covert tasks, cameras and exclusions `visibility` hides.
    public func visible(to visibility: CovertVisibility) -> Self {
        var detail = self
        detail.tasks = tasks.filter { !$0.covert || visibility.includes(covertOwnedBy: $0.holder.organisationID) }.map { $0.visible(to: visibility) }
        detail.exclusions = exclusions.filter { !$0.covert || visibility != .none }
        return detail
    }
}

extension EvidenceTask {
    /// The task without the covert cameras `visibility` hides.
    public func visible(to visibility: CovertVisibility) -> Self {
        var task = self
        task.cameras = cameras.filter { !$0.covert || visibility.includes(covertOwnedBy: holder.organisationID) }
        return task
    }
}

private struct TaskRecord: Encodable {
    var id: UUID
    var holder_org_id: UUID
    var control_room_id: UUID?
    var ack_due_at: Date
    var export_due_at: Date
    var overwrite_at: Date
    var at_risk: Bool
    var covert: Bool
}

private struct TaskCameraRecord: Encodable {
    var task_id: UUID
    var camera_id: UUID
    var overwrite_at: Date
    var covert: Bool
}

private struct ExclusionRecord: Encodable {
    var camera_id: UUID
    var reason: String
    var overwrite_at: Date
    var covert: Bool
}

extension JSONEncoder {
    /// An encoder for `jsonb_to_recordset` input: dates as seconds since 1970 (read back with `to_timestamp`).
    static var postgres: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }
}

extension EvidenceRequest {
    init(row: PostgresRow) throws {
        guard let priority = EvidencePriority(rawValue: try row.decode(6)) else { throw StoredValueError(column: "evidence_requests.priority") }
        guard let status = EvidenceRequestStatus(rawValue: try row.decode(17)) else { throw StoredValueError(column: "evidence_requests.status") }
        let dori: String? = try row.decode(14)
        self.init(
            id: try row.decode(0), reference: try row.decode(1), requesterOrganisationID: try row.decode(2),
            draft: EvidenceRequestDraft(
                crimeReference: try row.decode(3), incidentReference: try row.decode(4), offence: try row.decode(5), priority: priority,
                legalBasis: try row.decode(7), authorisedBy: try row.decode(8), location: Location(lat: try row.decode(9), lon: try row.decode(10)),
                radiusMetres: try row.decode(11), windowFrom: try row.decode(12), windowTo: try row.decode(13), requiredDORI: dori.flatMap(DORI.init),
                cameraIDs: try row.decode(15), notes: try row.decode(16)
            ),
            status: status, statusReason: try row.decode(18), createdAt: try row.decode(19), updatedAt: try row.decode(20),
            version: try row.decode(21)
        )
    }
}

extension EvidenceTask {
    init(row: PostgresRow) throws {
        guard let status = EvidenceTaskStatus(rawValue: try row.decode(6)) else { throw StoredValueError(column: "evidence_tasks.status") }
        guard let priority = EvidencePriority(rawValue: try row.decode(7)) else { throw StoredValueError(column: "evidence_tasks.priority") }
        self.init(
            id: try row.decode(0), requestID: try row.decode(1), reference: try row.decode(2), requesterOrganisationID: try row.decode(3),
            holder: EvidenceHolder(organisationID: try row.decode(4), controlRoomID: try row.decode(5)), status: status, priority: priority,
            ackDueAt: try row.decode(8), exportDueAt: try row.decode(9), overwriteAt: try row.decode(10), atRisk: try row.decode(11),
            holdUntil: try row.decode(12), acknowledgedAt: try row.decode(13), outcomeReason: try row.decode(14), outcomeNotes: try row.decode(15),
            covert: try row.decode(16), cameras: [], createdAt: try row.decode(17), updatedAt: try row.decode(18), version: try row.decode(19)
        )
    }
}
