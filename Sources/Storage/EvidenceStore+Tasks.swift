import Domain
import Foundation
import LibPQ

/// Evidence tasks: the holder's queue, one task, and the moves of the task machine with what each settles.
extension EvidenceStore {
    /// The task with `id`, whoever may see it (the caller's rules decide), or `nil`.
    public func task(id: UUID) async throws -> EvidenceTask? {
        try await database.withConnection { connection in try await Self.tasks(.id(id), on: connection).first }
    }

    /// One page of the tasks `organisationID` holds or asked for: at-risk first, then live tasks by their nearest
    /// deadline, then settled ones; covert tasks only as `visibility` allows.
    public func tasks(
        organisationID: UUID, visibility: CovertVisibility, filter: EvidenceTaskFilter, page: PageRequest
    ) async throws -> Page<EvidenceTask> {
        var key: QueueKey?
        if let after = page.cursor?.key {
            guard let parsed = QueueKey(after) else { throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")]) }
            key = parsed
        }
        let selection = TaskSelection.queue(
            organisationID: organisationID, covert: CameraStore.covertParameters(visibility), filter: filter, after: key, limit: page.limit + 1
        )
        return try await database.withConnection { connection in
            let tasks = try await Self.tasks(selection, on: connection)
            return Page(fetched: tasks.map { $0.visible(to: visibility) }, limit: page.limit) { QueueKey($0).parts }
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
    /// `nil` if there is no such task; throws `PreconditionFailure.stale` if it changed meanwhile.
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
            try await Self.move(taskID, to: next, move: move, holdUntil: holdUntil, keyID: keyID, actor: actor, now: now, on: connection)
            try await Self.settle(requestID, now: now, on: connection)
            return try await Self.tasks(.id(taskID), on: connection).first
        }
    }

    /// One task's move, with its camera outcomes, items, audit row and event. A move to another deadline
    /// (acknowledging, settling) starts the escalation again from 0; settling without footage wanted any more
    /// releases the hold; extending it makes its alerts due again.
    static func move(
        _ taskID: UUID, to next: EvidenceTaskStatus, move: EvidenceTaskMove, holdUntil: Date?, keyID: UUID?, actor: AuditActor, now: Date,
        on connection: PostgresConnection
    ) async throws {
        try await connection.query(
            """
            UPDATE evidence_tasks
            SET hold_until = coalesce($3, hold_until),
                hold_released_at = CASE WHEN hold_until IS NOT NULL AND hold_released_at IS NULL AND NOT $8 THEN $7 ELSE hold_released_at END,
                raised = CASE WHEN $3::timestamptz IS NULL THEN raised ELSE array_remove(array_remove(raised, 'hold_expiring'), 'hold_expired') END,
                escalation_level = CASE WHEN status = $2 THEN escalation_level ELSE 0 END,
                status = $2,
                acknowledged_at = CASE WHEN $2 = 'acknowledged' THEN $7 ELSE acknowledged_at END,
                acknowledged_by = CASE WHEN $2 = 'acknowledged' THEN $4 ELSE acknowledged_by END,
                exported_at = CASE WHEN $2 = 'exported' THEN $7 ELSE exported_at END,
                settled_at = CASE WHEN $9 THEN $7 ELSE settled_at END,
                outcome_reason = coalesce($5, outcome_reason), outcome_notes = coalesce($6, outcome_notes),
                updated_at = $7, version = version + 1
            WHERE id = $1
            """,
            taskID, next.rawValue, holdUntil, keyID, move.reason, move.notes, now, EvidenceTaskMachine.keepsHold(next),
            next.isSettled
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
        let task = try await tasks(.id(taskID), on: connection)[0]
        var detail: JSONObject = ["status": .string(next.rawValue), "version": .integer(task.version)]
        if let reason = move.reason { detail["reason"] = .string(reason) }
        if let holdUntil { detail["hold_until"] = .string(holdUntil.rfc3339) }
        try await connection.recordAudit(
            actor.event(
                "evidence_task." + move.action.rawValue, .success, entityType: "evidence_task", entityID: taskID.uuidString.lowercased(),
                detail: detail)
        )
        try await connection.append(.evidenceTask(.evidenceTask(move.action, becoming: next), task), at: now)
    }

    /// Derives the request's status from its tasks and, when it changed (or `forceVersionBump`), records it
    /// with its event: `evidence_request.cancelled`, or `.completed` when it settled otherwise.
    static func settle(_ requestID: UUID, forceVersionBump: Bool = false, now: Date, on connection: PostgresConnection) async throws {
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
}
