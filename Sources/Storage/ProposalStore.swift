import Domain
import Foundation
import LibPQ

/// What the registry says of a room a proposal names: who runs it and whether it still runs.
public struct ProposedRoom: Sendable, Hashable {
    public var id: UUID
    public var operatorOrganisationID: UUID
    public var status: ControlRoomStatus
}

/// Shared control-room proposals: their rooms, positions, decision and milestones (DESIGN §4.3).
public struct ProposalStore: Sendable {
    private let database: Database
    private var clock: any WallClock { database.clock }

    /// A store over `database`, reading the time from its clock.
    public init(_ database: Database) { self.database = database }

    static let columns = """
        p.id, p.lead_org_id, p.title, p.summary, p.status, p.host_room_id, p.new_room_name, ST_Y(p.new_room_location::geometry),
        ST_X(p.new_room_location::geometry), p.host_operator_positions, p.embedding_plan, p.appraisal_years, p.discount_rate::float8,
        p.long_term_discount_rate::float8, p.optimism_bias, p.fit_out_pence, p.network_pence, p.migration_pence, p.staff_transition_pence,
        p.other_pence, p.proposed_annual_cost_pence, p.submission_override_reason, p.decision_outcome, p.decision_reference,
        p.decision_date, p.decision_text, p.decided_at, p.implemented_at, p.implemented_room_id, p.created_at, p.updated_at, p.version,
        ARRAY(SELECT pr.control_room_id FROM proposal_rooms pr WHERE pr.proposal_id = p.id ORDER BY pr.position),
        ARRAY(SELECT DISTINCT r.operator_org_id FROM proposal_rooms pr JOIN control_rooms r ON r.id = pr.control_room_id
              WHERE pr.proposal_id = p.id ORDER BY 1)
        """

    /// The rooms with these ids that exist, by id.
    public func rooms(_ ids: [UUID]) async throws -> [UUID: ProposedRoom] {
        try await database.withConnection { connection in
            let rows = try await connection.query("SELECT id, operator_org_id, status FROM control_rooms WHERE id = ANY ($1::uuid[])", ids)
            return Dictionary(
                uniqueKeysWithValues: try rows.map { row in
                    let id: UUID = try row.decode(0)
                    let status: String = try row.decode(2)
                    return (
                        id, ProposedRoom(id: id, operatorOrganisationID: try row.decode(1), status: ControlRoomStatus(rawValue: status) ?? .closed)
                    )
                })
        }
    }

    /// Creates a draft led by `leadOrganisationID`; its audit row and `proposal.created` event commit with it.
    public func create(leadOrganisationID: UUID, draft: ProposalDraft, keyID: UUID, actor: AuditActor) async throws -> Proposal {
        let now = clock.now()
        return try await database.withTransaction { connection in
            try await Self.checkRoomsRun(draft.controlRoomIDs, on: connection)
            let id: UUID = try await connection.query(
                """
                INSERT INTO proposals (lead_org_id, title, summary, host_room_id, new_room_name, new_room_location, host_operator_positions,
                                       embedding_plan, appraisal_years, discount_rate, long_term_discount_rate, optimism_bias, fit_out_pence,
                                       network_pence, migration_pence, staff_transition_pence, other_pence, proposed_annual_cost_pence,
                                       created_by_key, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint($7, $6), 4326)::geography END,
                        $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16, $17, $18, $19, $20, $21, $21)
                RETURNING id
                """,
                parameters: [leadOrganisationID] + (try Self.parameters(draft)) + [keyID, now]
            )[0].decode(0)
            try await Self.replaceRooms(of: id, with: draft.controlRoomIDs, on: connection)
            let proposal = try await Self.get(id, today: Day(now), on: connection)
            try await connection.recordAudit(
                actor.event("proposal.create", .success, entityType: "proposal", entityID: id.uuidString.lowercased()))
            try await Self.emit(.proposalCreated, proposal, at: now, on: connection)
            return proposal
        }
    }

    /// The proposal with `id`, or `nil`.
    public func get(id: UUID) async throws -> Proposal? {
        let today = Day(clock.now())
        return try await database.withConnection { connection in
            guard let row = try await connection.query("SELECT " + Self.columns + " FROM proposals p WHERE p.id = $1", id).first else { return nil }
            return try await Self.complete([try Proposal(row: row)], on: connection, today: today)[0]
        }
    }

    /// One page of proposals, newest first.
    public func list(_ filter: ProposalFilter, page: PageRequest) async throws -> Page<Proposal> {
        let before = try TimeCursor.after(page)
        let today = Day(clock.now())
        return try await database.withConnection { connection in
            let rows = try await connection.query(
                "SELECT " + Self.columns + """
                     FROM proposals p
                    WHERE ($1::text IS NULL OR p.status = $1)
                      AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM proposal_rooms pr WHERE pr.proposal_id = p.id AND pr.control_room_id = $2))
                      AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM proposal_rooms pr JOIN control_room_boroughs b ON b.control_room_id = pr.control_room_id
                                                        WHERE pr.proposal_id = p.id AND b.gss_code = $3))
                      AND ($4::bigint IS NULL OR (p.created_at, p.id) < (timestamptz 'epoch' + $4::bigint * interval '1 microsecond', $5::uuid))
                    ORDER BY p.created_at DESC, p.id DESC
                    LIMIT $6
                    """,
                filter.status?.rawValue, filter.controlRoomID, filter.borough?.rawValue, before?.microseconds, before?.id,
                page.limit + 1
            )
            let fetched = try await Self.complete(try rows.map(Proposal.init(row:)), on: connection, today: today)
            return Page(fetched: fetched, limit: page.limit) { TimeCursor.key($0.createdAt, $0.id) }
        }
    }

    /// Replaces a draft's fields if it is still at `expectedVersion`; its audit row commits with it. `nil` if
    /// there is no such proposal; `.stale` if it changed; a conflict once it is no longer a draft.
    public func update(id: UUID, draft: ProposalDraft, expectedVersion: Int, actor: AuditActor) async throws -> Proposal? {
        let now = clock.now()
        return try await database.withTransaction { connection in
            guard let status = try await Self.lock(id, expectedVersion: expectedVersion, on: connection) else { return nil }
            guard status == .draft else {
                throw StateConflict("A proposal is changed only while it is a draft; this one is \(status.rawValue).")
            }
            try await Self.checkRoomsRun(draft.controlRoomIDs, on: connection)
            try await connection.query(
                """
                UPDATE proposals SET
                    title = $2, summary = $3, host_room_id = $4, new_room_name = $5,
                    new_room_location = CASE WHEN $6::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint($7, $6), 4326)::geography END,
                    host_operator_positions = $8, embedding_plan = $9, appraisal_years = $10, discount_rate = $11,
                    long_term_discount_rate = $12, optimism_bias = $13::jsonb, fit_out_pence = $14, network_pence = $15, migration_pence = $16,
                    staff_transition_pence = $17, other_pence = $18, proposed_annual_cost_pence = $19, updated_at = $20, version = version + 1
                WHERE id = $1
                """,
                parameters: [id] + (try Self.parameters(draft)) + [now]
            )
            try await Self.replaceRooms(of: id, with: draft.controlRoomIDs, on: connection)
            let proposal = try await Self.get(id, today: Day(now), on: connection)
            try await connection.recordAudit(
                actor.event(
                    "proposal.update", .success, entityType: "proposal", entityID: id.uuidString.lowercased(),
                    detail: ["version": .integer(proposal.version)]))
            return proposal
        }
    }

    /// Moves the proposal to `status` by `action` if it is still at `expectedVersion` (the caller has checked
    /// the move against the machine); `complete_implementation` merges its rooms (see `implement`). Its audit row
    /// and event commit with it. `nil` if there is no such proposal.
    public func transition(
        id: UUID, expectedVersion: Int, action: ProposalAction, to status: ProposalStatus, overrideReason: String?, actor: AuditActor
    ) async throws -> (Proposal, ImplementationSummary?)? {
        let now = clock.now()
        return try await database.withTransaction { connection in
            guard let current = try await Self.lock(id, expectedVersion: expectedVersion, on: connection) else { return nil }
            // The caller checked the move on a proposal it read; a concurrent move shows here as a changed version.
            guard ProposalMachine.actions(from: current).contains(action) else {
                throw StateConflict("The proposal is \(current.rawValue) now and cannot \(action.rawValue).")
            }
            var summary: ImplementationSummary?
            if action == .completeImplementation {
                let proposal = try await Self.get(id, today: Day(now), on: connection)
                summary = try await Self.implement(proposal, at: now, actor: actor, on: connection)
            }
            try await connection.query(
                """
                UPDATE proposals SET status = $2, submission_override_reason = coalesce($3, submission_override_reason),
                       implemented_at = CASE WHEN $2 = 'implemented' THEN $4 ELSE implemented_at END,
                       implemented_room_id = coalesce($5, implemented_room_id), updated_at = $4, version = version + 1
                WHERE id = $1
                """,
                id, status.rawValue, overrideReason, now, summary?.createdRoomID
            )
            let proposal = try await Self.get(id, today: Day(now), on: connection)
            var detail: JSONObject = ["action": .string(action.rawValue), "status": .string(status.rawValue), "version": .integer(proposal.version)]
            if let overrideReason { detail["override_reason"] = .string(overrideReason) }
            if let summary { detail.merge(summary.fields) { _, new in new } }
            try await connection.recordAudit(
                actor.event("proposal.\(action.rawValue)", .success, entityType: "proposal", entityID: id.uuidString.lowercased(), detail: detail))
            try await Self.emit(.proposal(becoming: status), proposal, at: now, on: connection, fields: summary?.fields ?? [:])
            return (proposal, summary)
        }
    }

    /// Records a MOPAC planner's decision on a submitted proposal still at `expectedVersion`.
    public func decide(
        id: UUID, expectedVersion: Int, outcome: ProposalOutcome, reference: String, decidedOn: Day, text: String, actor: AuditActor
    ) async throws -> Proposal? {
        let now = clock.now()
        return try await database.withTransaction { connection in
            guard let current = try await Self.lock(id, expectedVersion: expectedVersion, on: connection) else { return nil }
            guard current == .submitted else { throw StateConflict("The proposal is \(current.rawValue) now and cannot be decided.") }
            try await connection.query(
                """
                UPDATE proposals SET status = $2, decision_outcome = $2, decision_reference = $3, decision_date = $4, decision_text = $5,
                       decided_at = $6, updated_at = $6, version = version + 1
                WHERE id = $1
                """,
                id, outcome.rawValue, reference, PostgresDate(decidedOn), text, now
            )
            let proposal = try await Self.get(id, today: Day(now), on: connection)
            try await connection.recordAudit(
                actor.event(
                    "proposal.decide", .success, entityType: "proposal", entityID: id.uuidString.lowercased(),
                    detail: ["outcome": .string(outcome.rawValue), "reference": .string(reference), "version": .integer(proposal.version)]))
            try await Self.emit(.proposalDecided, proposal, at: now, on: connection)
            return proposal
        }
    }

    /// Records `organisationID`'s position on a proposal in consultation; an earlier one stays in the history.
    public func endorse(
        id: UUID, organisationID: UUID, position: EndorsementPosition, comment: String?, keyID: UUID, actor: AuditActor
    ) async throws -> (Proposal, ProposalEndorsement)? {
        let now = clock.now()
        return try await database.withTransaction { connection in
            guard let row = try await connection.query("SELECT status FROM proposals WHERE id = $1 FOR UPDATE", id).first else { return nil }
            let status: String = try row.decode(0)
            guard status == ProposalStatus.consultation.rawValue else {
                throw StateConflict("Positions are recorded while a proposal is in consultation; this one is \(status).")
            }
            let endorsementID: UUID = try await connection.query(
                """
                INSERT INTO proposal_endorsements (proposal_id, organisation_id, position, comment, recorded_by_key, recorded_at)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
                """,
                id, organisationID, position.rawValue, comment, keyID, now
            )[0].decode(0)
            try await connection.query("UPDATE proposals SET updated_at = $2, version = version + 1 WHERE id = $1", id, now)
            let proposal = try await Self.get(id, today: Day(now), on: connection)
            try await connection.recordAudit(
                actor.event(
                    "proposal.endorse", .success, entityType: "proposal", entityID: id.uuidString.lowercased(),
                    detail: ["position": .string(position.rawValue), "endorsement_id": .id(endorsementID)]))
            try await Self.emit(
                .proposalEndorsementRecorded, proposal, at: now, on: connection,
                fields: ["organisation_id": .id(organisationID), "position": .string(position.rawValue)])
            let endorsement = ProposalEndorsement(
                id: endorsementID, organisationID: organisationID, position: position, comment: comment, recordedAt: now, superseded: false)
            return (proposal, endorsement)
        }
    }

    /// Every position recorded on a proposal, oldest first, each marked when a later one replaced it.
    public func endorsements(proposalID: UUID) async throws -> [ProposalEndorsement] {
        try await database.withConnection { connection in
            try await connection.query(
                """
                SELECT id, organisation_id, position, comment, recorded_at,
                       EXISTS (SELECT 1 FROM proposal_endorsements later
                               WHERE later.proposal_id = e.proposal_id AND later.organisation_id = e.organisation_id AND later.serial > e.serial)
                FROM proposal_endorsements e WHERE e.proposal_id = $1 ORDER BY e.serial
                """,
                proposalID
            ).map(ProposalEndorsement.init(row:))
        }
    }

    /// Adds a milestone to a proposal, or (with `milestoneID`) changes one still at `expectedVersion`; the
    /// proposal's `proposal.milestone_updated` event and audit row commit with it. `nil` if either does not exist.
    public func saveMilestone(
        proposalID: UUID, milestoneID: UUID? = nil, expectedVersion: Int? = nil, title: String, dueOn: Day, completedOn: Day?, actor: AuditActor
    ) async throws -> (Proposal, ProposalMilestone)? {
        let now = clock.now()
        return try await database.withTransaction { connection in
            guard let row = try await connection.query("SELECT status FROM proposals WHERE id = $1 FOR UPDATE", proposalID).first else {
                return nil
            }
            let status = ProposalStatus(rawValue: try row.decode(0)) ?? .withdrawn
            guard ProposalMachine.keepsMilestones(status) else {
                throw StateConflict("A proposal that is \(status.rawValue) keeps its milestones as they are.")
            }
            let id: UUID
            if let milestoneID {
                guard
                    let current = try await connection.query(
                        "SELECT version FROM proposal_milestones WHERE id = $1 AND proposal_id = $2 FOR UPDATE", milestoneID, proposalID
                    ).first
                else { return nil }
                let version: Int = try current.decode(0)
                guard version == expectedVersion else { throw PreconditionFailure.stale(currentETag: Preconditions.etag(version: version)) }
                try await connection.query(
                    """
                    UPDATE proposal_milestones SET title = $2, due_on = $3, completed_on = $4, updated_at = $5, version = version + 1
                    WHERE id = $1
                    """,
                    milestoneID, title, PostgresDate(dueOn), completedOn.map(PostgresDate.init), now
                )
                id = milestoneID
            } else {
                id = try await connection.query(
                    """
                    INSERT INTO proposal_milestones (proposal_id, title, due_on, completed_on, created_at, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $5) RETURNING id
                    """,
                    proposalID, title, PostgresDate(dueOn), completedOn.map(PostgresDate.init), now
                )[0].decode(0)
            }
            try await connection.query("UPDATE proposals SET updated_at = $2, version = version + 1 WHERE id = $1", proposalID, now)
            let proposal = try await Self.get(proposalID, today: Day(now), on: connection)
            guard let milestone = proposal.milestones.first(where: { $0.id == id }) else { return nil }
            try await connection.recordAudit(
                actor.event(
                    milestoneID == nil ? "proposal.milestone_add" : "proposal.milestone_update", .success, entityType: "proposal",
                    entityID: proposalID.uuidString.lowercased(), detail: ["milestone_id": .id(id), "version": .integer(milestone.version)]))
            try await Self.emit(
                .proposalMilestoneUpdated, proposal, at: now, on: connection,
                fields: [
                    "milestone_id": .id(id), "overdue": .boolean(milestone.isOverdue(today: Day(now))),
                    "completed": .boolean(milestone.completedOn != nil),
                ])
            return (proposal, milestone)
        }
    }

    /// What the appraisal of `proposal` needs from the registry: its rooms' cost facts (cameras in service,
    /// covert ones never counted) and the live police arrangements in them.
    public func appraisalFacts(_ proposal: Proposal) async throws -> (rooms: [RoomCostFacts], arrangements: [AffectedArrangement]) {
        let today = Day(clock.now())
        return try await database.withConnection { connection in
            let rooms = try await connection.query(
                """
                SELECT r.id, r.name, r.operator_org_id, r.annual_cost_pence, r.operator_positions, r.staff_fte::float8, r.costs_reviewed_on,
                       (SELECT count(*) FROM cameras c WHERE c.control_room_id = r.id AND NOT c.covert AND c.status IN ('operational', 'faulty')),
                       ARRAY(SELECT b.gss_code FROM control_room_boroughs b WHERE b.control_room_id = r.id ORDER BY 1)
                FROM control_rooms r JOIN unnest($1::uuid[]) WITH ORDINALITY AS given(id, n) ON given.id = r.id
                ORDER BY given.n
                """,
                proposal.draft.controlRoomIDs
            ).map { row in
                RoomCostFacts(
                    id: try row.decode(0), name: try row.decode(1), operatorOrganisationID: try row.decode(2), annualCostPence: try row.decode(3),
                    operatorPositions: try row.decode(4), staffFTE: try row.decode(5),
                    costsReviewedOn: try row.decode(6, as: PostgresDate?.self).map(Day.init), cameras: try row.decode(7),
                    boroughsServed: try row.decode(8))
            }
            let arrangements = try await Self.liveArrangements(in: proposal.draft.controlRoomIDs, today: today, on: connection)
            return (rooms, arrangements)
        }
    }
}

/// What implementing a proposal changed.
public struct ImplementationSummary: Sendable, Hashable {
    public var hostRoomID: UUID
    /// The room created for a new host.
    public var createdRoomID: UUID?
    public var roomsMerged: Int
    public var camerasMoved: Int
    public var openTasksMoved: Int
    public var arrangementsCarriedOver: Int
    public var arrangementsEnded: Int
    /// The events written, the proposal's own among them.
    public var eventsWritten: Int

    var fields: JSONObject {
        [
            "host_room_id": .id(hostRoomID), "rooms_merged": .integer(roomsMerged), "cameras_moved": .integer(camerasMoved),
            "open_tasks_moved": .integer(openTasksMoved), "arrangements_carried_over": .integer(arrangementsCarriedOver),
            "arrangements_ended": .integer(arrangementsEnded),
        ]
    }
}

// MARK: Implementation

extension ProposalStore {
    /// Merges `proposal`'s rooms into its host, in the caller's transaction: a new host is created first; each
    /// absorbed room becomes `merged` into the host, which takes its boroughs and the monitoring of its cameras;
    /// open evidence tasks keep their holder and show the host room; police arrangements move to the host or end
    /// today, as the proposal says. Every room and arrangement changed is audited and has its event; the cameras
    /// moved are audited as one row and their `camera.updated` events written in bulk.
    static func implement(_ proposal: Proposal, at now: Date, actor: AuditActor, on connection: PostgresConnection) async throws
        -> ImplementationSummary
    {
        let today = Day(now)
        let draft = proposal.draft
        let rooms = try await connection.query(
            "SELECT id, status, default_retention_days, export_formats FROM control_rooms WHERE id = ANY ($1::uuid[]) ORDER BY id FOR UPDATE",
            draft.controlRoomIDs
        )
        for row in rooms {
            guard try row.decode(1, as: String.self) != ControlRoomStatus.active.rawValue else { continue }
            let id: UUID = try row.decode(0)
            throw StateConflict("The room \(id.uuidString.lowercased()) no longer runs (it was merged or closed); the proposal cannot merge it.")
        }
        let absorbed = draft.absorbedRoomIDs
        let police = try await connection.policeForces()
        var events: [DomainEvent] = []
        var createdRoomID: UUID?
        let hostID: UUID
        if let existing = draft.host.controlRoomID {
            hostID = existing
        } else {
            let retention = try rooms.map { try $0.decode(2, as: Int.self) }.max() ?? 31
            let formats = Array(Set(try rooms.flatMap { try $0.decode(3, as: [String].self) })).sorted()
            hostID = try await connection.query(
                """
                INSERT INTO control_rooms (operator_org_id, name, location, operator_positions, export_formats, default_retention_days,
                                           created_at, updated_at)
                VALUES ($1, $2, ST_SetSRID(ST_MakePoint($4, $3), 4326)::geography, $5, $6, $7, $8, $8) RETURNING id
                """,
                proposal.leadOrganisationID, draft.host.name, draft.host.location?.lat, draft.host.location?.lon, draft.host.operatorPositions,
                formats, retention, now
            )[0].decode(0)
            createdRoomID = hostID
        }
        // The host takes every absorbed room's boroughs, the proposal's positions and running cost.
        try await connection.query(
            """
            INSERT INTO control_room_boroughs (control_room_id, gss_code)
            SELECT $1, gss_code FROM control_room_boroughs WHERE control_room_id = ANY ($2::uuid[]) ON CONFLICT DO NOTHING
            """,
            hostID, absorbed
        )
        try await connection.query(
            """
            UPDATE control_rooms SET operator_positions = coalesce($2, operator_positions), annual_cost_pence = $3, updated_at = $4,
                   version = version + CASE WHEN $5 THEN 0 ELSE 1 END
            WHERE id = $1
            """,
            hostID, draft.host.operatorPositions, draft.proposedAnnualCostPence, now, createdRoomID != nil
        )
        let host = try await roomWithAuthorities(hostID, on: connection)
        events.append(
            .controlRoom(
                createdRoomID == nil ? .controlRoomUpdated : .controlRoomCreated, host.room, boroughAuthorities: host.authorities,
                policeForces: police))
        try await connection.recordAudit(
            actor.event(
                createdRoomID == nil ? "control_room.update" : "control_room.create", .success, entityType: "control_room",
                entityID: hostID.uuidString.lowercased(), detail: ["proposal_id": .id(proposal.id), "version": .integer(host.room.version)]))
        // Each absorbed room: merged into the host; its event goes to those who heard of it before.
        for roomID in absorbed {
            let before = try await roomWithAuthorities(roomID, on: connection)
            try await connection.query("DELETE FROM control_room_boroughs WHERE control_room_id = $1", roomID)
            try await connection.query(
                "UPDATE control_rooms SET status = 'merged', merged_into = $2, updated_at = $3, version = version + 1 WHERE id = $1", roomID, hostID,
                now)
            let merged = try await roomWithAuthorities(roomID, on: connection)
            events.append(.controlRoom(.controlRoomUpdated, merged.room, boroughAuthorities: before.authorities, policeForces: police))
            try await connection.recordAudit(
                actor.event(
                    "control_room.merge", .success, entityType: "control_room", entityID: roomID.uuidString.lowercased(),
                    detail: ["merged_into": .id(hostID), "proposal_id": .id(proposal.id), "version": .integer(merged.room.version)]))
        }
        // Cameras: one statement moves them all; their events are built by Domain and written in bulk.
        let moved = try await connection.query(
            """
            UPDATE cameras c SET control_room_id = $2, updated_at = $3, version = c.version + 1
            WHERE c.control_room_id = ANY ($1::uuid[])
            RETURNING c.id, c.version, c.status, c.covert, c.owner_org_id, (SELECT b.organisation_id FROM boroughs b WHERE b.gss_code = c.borough_gss)
            """,
            absorbed, hostID, now
        )
        for row in moved {
            let status: String = try row.decode(2)
            events.append(
                .camera(
                    .cameraUpdated, id: try row.decode(0), version: try row.decode(1), status: CameraStatus(rawValue: status) ?? .operational,
                    covert: try row.decode(3), owner: try row.decode(4), roomOperator: host.room.operatorOrganisationID,
                    boroughAuthority: try row.decode(5), policeForces: police))
        }
        if !moved.isEmpty {
            try await connection.recordAudit(
                actor.event(
                    "camera.rehome", .success, entityType: "control_room", entityID: hostID.uuidString.lowercased(),
                    detail: ["proposal_id": .id(proposal.id), "cameras": .integer(moved.count)]))
        }
        // Open tasks keep their holder and show the room that now monitors their cameras.
        let tasksMoved = try await connection.query(
            """
            UPDATE evidence_tasks SET control_room_id = $2, updated_at = $3, version = version + 1
            WHERE control_room_id = ANY ($1::uuid[]) AND status IN ('pending', 'acknowledged', 'exported')
            RETURNING id
            """,
            absorbed, hostID, now
        ).count
        // Police arrangements of the absorbed rooms: carried over to the host, or ended today.
        var carried = 0
        var ended = 0
        for arrangement in try await liveArrangements(in: absorbed, today: today, on: connection) {
            let type: EventType
            if draft.embeddingPlan == .carryOver {
                try await connection.query(
                    "UPDATE embedding_arrangements SET control_room_id = $2, updated_at = $3, version = version + 1 WHERE id = $1", arrangement.id,
                    hostID, now)
                type = .embeddingArrangementUpdated
                carried += 1
            } else {
                try await connection.query(
                    """
                    UPDATE embedding_arrangements SET ends_on = greatest(starts_on, $2), updated_at = $3, version = version + 1 WHERE id = $1
                    """,
                    arrangement.id, PostgresDate(today), now)
                type = .embeddingArrangementEnded
                ended += 1
            }
            let changed = try EmbeddingArrangement(
                row: try await connection.query(
                    "SELECT " + EmbeddingArrangementStore.columns + " FROM embedding_arrangements e WHERE e.id = $1", arrangement.id)[0])
            events.append(
                .embedding(type, changed, roomOperator: host.room.operatorOrganisationID, boroughAuthorities: host.authorities))
            try await connection.recordAudit(
                actor.event(
                    type == .embeddingArrangementEnded ? "embedding_arrangement.end" : "embedding_arrangement.update", .success,
                    entityType: "embedding_arrangement", entityID: arrangement.id.uuidString.lowercased(),
                    detail: ["proposal_id": .id(proposal.id), "control_room_id": .id(changed.controlRoomID)]))
        }
        for chunk in stride(from: 0, to: events.count, by: 5_000) {
            try await connection.append(Array(events[chunk..<min(chunk + 5_000, events.count)]), at: now)
        }
        return ImplementationSummary(
            hostRoomID: hostID, createdRoomID: createdRoomID, roomsMerged: absorbed.count, camerasMoved: moved.count, openTasksMoved: tasksMoved,
            arrangementsCarriedOver: carried, arrangementsEnded: ended, eventsWritten: events.count + 1)
    }

    private static func roomWithAuthorities(_ id: UUID, on connection: PostgresConnection) async throws -> (room: ControlRoom, authorities: [UUID]) {
        let room = try ControlRoom(
            row: try await connection.query("SELECT " + ControlRoomStore.columns + " FROM control_rooms r WHERE r.id = $1", id)[0])
        let authorities: [UUID] = try await connection.query(
            "SELECT organisation_id FROM boroughs WHERE gss_code = ANY ($1::text[]) ORDER BY 1", room.draft.boroughsServed
        ).map { try $0.decode(0) }
        return (room, authorities)
    }

    static func liveArrangements(in rooms: [UUID], today: Day, on connection: PostgresConnection) async throws -> [AffectedArrangement] {
        try await connection.query(
            """
            SELECT id, control_room_id, police_org_id, model, staff_count FROM embedding_arrangements
            WHERE control_room_id = ANY ($1::uuid[]) AND (ends_on IS NULL OR ends_on >= $2)
            ORDER BY control_room_id, starts_on, id
            """,
            rooms, PostgresDate(today)
        ).map { row in
            let model: String = try row.decode(3)
            return AffectedArrangement(
                id: try row.decode(0), controlRoomID: try row.decode(1), policeOrganisationID: try row.decode(2),
                model: EmbeddingModel(rawValue: model) ?? .visiting, staffCount: try row.decode(4))
        }
    }
}

// MARK: Reading and writing rows

extension ProposalStore {
    /// Locks the proposal and checks its version; its status, or `nil` if there is none.
    private static func lock(_ id: UUID, expectedVersion: Int, on connection: PostgresConnection) async throws -> ProposalStatus? {
        guard let row = try await connection.query("SELECT status, version FROM proposals WHERE id = $1 FOR UPDATE", id).first else { return nil }
        let version: Int = try row.decode(1)
        guard version == expectedVersion else { throw PreconditionFailure.stale(currentETag: Preconditions.etag(version: version)) }
        guard let status = ProposalStatus(rawValue: try row.decode(0)) else { throw StoredValueError(column: "proposals.status") }
        return status
    }

    /// Checks that every room exists and still runs, naming each that does not by its place in the list.
    private static func checkRoomsRun(_ ids: [UUID], on connection: PostgresConnection) async throws {
        let rows = try await connection.query("SELECT id, status FROM control_rooms WHERE id = ANY ($1::uuid[]) FOR SHARE", ids)
        let statuses: [UUID: String] = Dictionary(uniqueKeysWithValues: try rows.map { (try $0.decode(0), try $0.decode(1)) })
        let problems = ids.enumerated().compactMap { index, id -> FieldProblem? in
            switch statuses[id] {
            case nil: FieldProblem(pointer: "/control_room_ids/\(index)", detail: "is not a control room")
            case "active": nil
            case let status?:
                FieldProblem(pointer: "/control_room_ids/\(index)", detail: "is \(status); only a room that still runs joins a proposal")
            }
        }
        guard problems.isEmpty else { throw ValidationError(problems) }
    }

    private static func replaceRooms(of id: UUID, with rooms: [UUID], on connection: PostgresConnection) async throws {
        try await connection.query("DELETE FROM proposal_rooms WHERE proposal_id = $1", id)
        try await connection.query(
            """
            INSERT INTO proposal_rooms (proposal_id, control_room_id, position)
            SELECT $1, room, n FROM unnest($2::uuid[]) WITH ORDINALITY AS given(room, n)
            """,
            id, rooms
        )
    }

    private static func parameters(_ draft: ProposalDraft) throws -> [(any PostgresEncodable)?] {
        let bias = String(decoding: try JSONEncoder().encode(draft.parameters.optimismBias), as: UTF8.self)
        let costs = draft.oneOffCosts
        return [
            draft.title, draft.summary, draft.host.controlRoomID, draft.host.name, draft.host.location?.lat, draft.host.location?.lon,
            draft.host.operatorPositions, draft.embeddingPlan.rawValue, draft.parameters.years, draft.parameters.discountRatePercent,
            draft.parameters.longTermDiscountRatePercent, bias, costs.fitOut, costs.network, costs.migration, costs.staffTransition, costs.other,
            draft.proposedAnnualCostPence,
        ]
    }

    static func get(_ id: UUID, today: Day, on connection: PostgresConnection) async throws -> Proposal {
        try await complete(
            [try Proposal(row: try await connection.query("SELECT " + columns + " FROM proposals p WHERE p.id = $1", id)[0])], on: connection,
            today: today)[0]
    }

    /// `proposals` with their current positions and milestones, read in two statements for the lot.
    private static func complete(_ proposals: [Proposal], on connection: PostgresConnection, today: Day) async throws -> [Proposal] {
        guard !proposals.isEmpty else { return [] }
        let ids = proposals.map(\.id)
        var endorsements: [UUID: [ProposalEndorsement]] = [:]
        for row in try await connection.query(
            """
            SELECT DISTINCT ON (proposal_id, organisation_id) id, organisation_id, position, comment, recorded_at, false, proposal_id
            FROM proposal_endorsements WHERE proposal_id = ANY ($1::uuid[])
            ORDER BY proposal_id, organisation_id, serial DESC
            """,
            ids
        ) {
            endorsements[try row.decode(6), default: []].append(try ProposalEndorsement(row: row))
        }
        var milestones: [UUID: [ProposalMilestone]] = [:]
        for row in try await connection.query(
            """
            SELECT id, title, due_on, completed_on, version, proposal_id FROM proposal_milestones
            WHERE proposal_id = ANY ($1::uuid[]) ORDER BY due_on, id
            """,
            ids
        ) {
            guard let dueOn = try row.decode(2, as: PostgresDate?.self).map(Day.init) else {
                throw StoredValueError(column: "proposal_milestones.due_on")
            }
            milestones[try row.decode(5), default: []].append(
                ProposalMilestone(
                    id: try row.decode(0), title: try row.decode(1), dueOn: dueOn,
                    completedOn: try row.decode(3, as: PostgresDate?.self).map(Day.init), version: try row.decode(4)))
        }
        return proposals.map { proposal in
            var proposal = proposal
            proposal.endorsements = endorsements[proposal.id] ?? []
            proposal.milestones = milestones[proposal.id] ?? []
            return proposal
        }
    }

    /// Writes `type` about `proposal` to the outbox: to its lead, participants, MOPAC and the police forces with
    /// live arrangements in its rooms.
    private static func emit(
        _ type: EventType, _ proposal: Proposal, at now: Date, on connection: PostgresConnection, fields: JSONObject = [:]
    ) async throws {
        let mopac: [UUID] = try await connection.query("SELECT id FROM organisations WHERE kind = 'mopac' ORDER BY id").map { try $0.decode(0) }
        let police = Set(try await liveArrangements(in: proposal.draft.controlRoomIDs, today: Day(now), on: connection).map(\.policeOrganisationID))
        try await connection.append(
            .proposal(type, proposal, mopac: mopac, policeWithArrangements: Array(police), fields: fields), at: now)
    }
}

extension Proposal {
    init(row: PostgresRow) throws {
        guard let status = ProposalStatus(rawValue: try row.decode(4)) else { throw StoredValueError(column: "proposals.status") }
        guard let plan = EmbeddingPlan(rawValue: try row.decode(10)) else { throw StoredValueError(column: "proposals.embedding_plan") }
        let biasText = try row.decode(14, as: PostgresJSON.self).text
        guard let bias = try? JSONDecoder().decode(OptimismBias.self, from: Data(biasText.utf8)) else {
            throw StoredValueError(column: "proposals.optimism_bias")
        }
        let lat: Double? = try row.decode(7)
        let lon: Double? = try row.decode(8)
        var decision: ProposalDecision?
        if let outcome = try row.decode(22, as: String?.self).flatMap(ProposalOutcome.init(rawValue:)),
            let decidedOn = try row.decode(24, as: PostgresDate?.self).map(Day.init)
        {
            decision = ProposalDecision(
                outcome: outcome, reference: try row.decode(23), decidedOn: decidedOn, text: try row.decode(25), decidedAt: try row.decode(26))
        }
        self.init(
            id: try row.decode(0), leadOrganisationID: try row.decode(1),
            draft: ProposalDraft(
                title: try row.decode(2), summary: try row.decode(3), controlRoomIDs: try row.decode(32),
                host: ProposalHost(
                    controlRoomID: try row.decode(5), name: try row.decode(6),
                    location: lat.flatMap { lat in lon.map { Location(lat: lat, lon: $0) } },
                    operatorPositions: try row.decode(9)),
                parameters: AppraisalParameters(
                    years: try row.decode(11), discountRatePercent: try row.decode(12), longTermDiscountRatePercent: try row.decode(13),
                    optimismBias: bias),
                oneOffCosts: OneOffCosts(
                    fitOut: try row.decode(15), network: try row.decode(16), migration: try row.decode(17), staffTransition: try row.decode(18),
                    other: try row.decode(19)),
                proposedAnnualCostPence: try row.decode(20), embeddingPlan: plan),
            status: status, participants: try row.decode(33), endorsements: [], submissionOverrideReason: try row.decode(21), decision: decision,
            milestones: [], implementedAt: try row.decode(27), implementedRoomID: try row.decode(28), createdAt: try row.decode(29),
            updatedAt: try row.decode(30), version: try row.decode(31)
        )
    }
}

extension ProposalEndorsement {
    init(row: PostgresRow) throws {
        guard let position = EndorsementPosition(rawValue: try row.decode(2)) else {
            throw StoredValueError(column: "proposal_endorsements.position")
        }
        self.init(
            id: try row.decode(0), organisationID: try row.decode(1), position: position, comment: try row.decode(3), recordedAt: try row.decode(4),
            superseded: try row.decode(5))
    }
}
