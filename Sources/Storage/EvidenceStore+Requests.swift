import Domain
import Foundation
import LibPQ

/// Evidence requests: creating one (its cameras, tasks and events in one statement), reading them, cancelling one.
extension EvidenceStore {
    // MARK: Creating

    /// Records a request, selects its cameras and creates one task per holder, all in one transaction with the
    /// audit row and events.
    ///
    /// Cameras come from within the radius (in service during the window, able to reach the DORI level) and
    /// from `draft.cameraIDs`; covert ones only as `visibility` allows. An explicit id that is not a camera the
    /// caller may know of is a `ValidationError` at `/camera_ids/<n>`, the same for a covert camera as for none.
    /// A location more than `serviceAreaMarginMetres` outside London's boundary is a `ValidationError` at
    /// `/location`: Sightline serves London, and a request elsewhere (or with latitude and longitude swapped)
    /// would otherwise close as "no cameras found".
    public func create(
        _ draft: EvidenceRequestDraft, requesterOrganisationID: UUID, requesterKeyID: UUID?, visibility: CovertVisibility, sla: EvidenceSLA,
        serviceAreaMarginMetres: Double = EvidenceSettings.defaultServiceAreaMargin, actor: AuditActor
    ) async throws -> EvidenceRequestDetail {
        let now = clock.now()
        return try await database.withTransaction { connection in
            let served: Bool = try await connection.query(
                """
                WITH p AS (SELECT ST_SetSRID(ST_MakePoint($2, $1), 4326) AS point)
                SELECT EXISTS (SELECT 1 FROM borough_boundaries b, p WHERE ST_Intersects(b.boundary, p.point))
                    OR EXISTS (SELECT 1 FROM borough_boundaries b, p
                               WHERE ST_DWithin(b.boundary, p.point, $3 / 111320.0 * 2)
                                 AND ST_DWithin(b.boundary::geography, p.point::geography, $3))
                FROM p
                """,
                draft.location.lat, draft.location.lon, serviceAreaMarginMetres
            )[0].decode(0)
            guard served else {
                throw ValidationError([
                    .init(
                        pointer: "/location",
                        detail: "is outside the area Sightline serves (London, and \(Int(serviceAreaMarginMetres)) m beyond its boundary); "
                            + "check that lat and lon are not swapped")
                ])
            }
            let covert = CameraStore.covertParameters(visibility)
            let rows = try await connection.query(
                """
                SELECT c.id, c.owner_org_id, c.control_room_id, r.operator_org_id, c.covert,
                       $1::timestamptz + make_interval(days => coalesce(c.retention_days, r.default_retention_days, 31)), life.in_service,
                       \(Self.cameraFactColumns)
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
                    roomOperatorID: try row.decode(3), overwriteAt: try row.decode(5), inService: try row.decode(6), covert: try row.decode(4),
                    facts: try TaskCameraFacts(row: row, at: 7)
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
                                               notes, status, status_reason, created_at, updated_at, contact_name, contact_role, contact_email,
                                               contact_phone)
                VALUES (evidence_reference($19), $1, $2, $3, $4, $5, $6, $7, $8, ST_SetSRID(ST_MakePoint($10, $9), 4326)::geography, $11, $12, $13,
                        $14, $15, $16, $17, $18, $19, $19, $20, $21, $22, $23)
                RETURNING id, reference
                """,
                requesterOrganisationID, requesterKeyID, draft.crimeReference, draft.incidentReference, draft.offence, draft.priority.rawValue,
                draft.legalBasis, draft.authorisedBy, draft.location.lat, draft.location.lon, draft.radiusMetres, draft.windowFrom, draft.windowTo,
                draft.requiredDORI?.rawValue, draft.cameraIDs, draft.notes, plan.initialStatus.rawValue, plan.emptyReason, now, draft.contact?.name,
                draft.contact?.role, draft.contact?.email, draft.contact?.phone
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
    private static func insert(_ plan: EvidencePlan, of request: EvidenceRequest, on connection: PostgresConnection) async throws
        -> EvidenceRequestDetail
    {
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
                    EvidenceTask.Camera(cameraID: $0.cameraID, overwriteAt: $0.overwriteAt, covert: $0.covert, outcome: .pending, facts: $0.facts)
                },
                brief: EvidenceBrief(request.draft), createdAt: request.createdAt, updatedAt: request.createdAt, version: 1
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
        return EvidenceRequestDetail(
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
    public func request(id: UUID, organisationID: UUID, visibility: CovertVisibility) async throws -> EvidenceRequestDetail? {
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

    /// Cancels every live task of a request at `expectedVersion`; `nil` if there is no such request of
    /// `organisationID`. Throws `StateConflict` when no task is live.
    public func cancel(
        requestID: UUID, organisationID: UUID, expectedVersion: Int, notes: String?, visibility: CovertVisibility, actor: AuditActor
    ) async throws -> EvidenceRequestDetail? {
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
