import Foundation

/// Every kind of event partners hear of (DESIGN §7).
public enum EventType: String, Sendable, Hashable, CaseIterable, Codable {
    case evidenceRequestCreated = "evidence_request.created"
    case evidenceRequestCancelled = "evidence_request.cancelled"
    case evidenceRequestCompleted = "evidence_request.completed"
    case evidenceTaskCreated = "evidence_task.created"
    case evidenceTaskAcknowledged = "evidence_task.acknowledged"
    case evidenceTaskRejected = "evidence_task.rejected"
    case evidenceTaskNoFootage = "evidence_task.no_footage"
    case evidenceTaskExported = "evidence_task.exported"
    case evidenceTaskCollected = "evidence_task.collected"
    case evidenceTaskCancelled = "evidence_task.cancelled"
    case evidenceTaskAtRisk = "evidence_task.at_risk"
    case evidenceTaskSLABreached = "evidence_task.sla_breached"
    case evidenceTaskHoldExtended = "evidence_task.hold_extended"
    case evidenceTaskHoldExpiring = "evidence_task.hold_expiring"
    case evidenceTaskHoldExpired = "evidence_task.hold_expired"
    case cameraCreated = "camera.created"
    case cameraUpdated = "camera.updated"
    case cameraStatusChanged = "camera.status_changed"
    case controlRoomCreated = "control_room.created"
    case controlRoomUpdated = "control_room.updated"
    case embeddingArrangementCreated = "embedding_arrangement.created"
    case embeddingArrangementUpdated = "embedding_arrangement.updated"
    case embeddingArrangementEnded = "embedding_arrangement.ended"
    case proposalCreated = "proposal.created"
    case proposalConsultationOpened = "proposal.consultation_opened"
    case proposalEndorsementRecorded = "proposal.endorsement_recorded"
    case proposalSubmitted = "proposal.submitted"
    case proposalDecided = "proposal.decided"
    case proposalMilestoneUpdated = "proposal.milestone_updated"
    case proposalImplementationStarted = "proposal.implementation_started"
    case proposalImplemented = "proposal.implemented"
    case proposalWithdrawn = "proposal.withdrawn"
    case reportReady = "report.ready"
    case webhookEndpointDisabled = "webhook_endpoint.disabled"
    /// Sent by the test operation to one endpoint, whatever it subscribes to; never subscribed to.
    case webhookTest = "webhook.test"

    /// The types an endpoint may subscribe to: all but the test event.
    public static let subscribable: Set<String> = Set(allCases.filter { $0 != .webhookTest }.map(\.rawValue))

    /// The type a task's `action` to `status` announces: its new status, or the hold it extended.
    public static func evidenceTask(_ action: EvidenceTaskAction, becoming status: EvidenceTaskStatus) -> EventType {
        action == .extendHold ? .evidenceTaskHoldExtended : evidenceTask(becoming: status)
    }

    /// The type a task's move to `status` announces.
    public static func evidenceTask(becoming status: EvidenceTaskStatus) -> EventType {
        switch status {
        case .pending: .evidenceTaskCreated
        case .acknowledged: .evidenceTaskAcknowledged
        case .rejected: .evidenceTaskRejected
        case .noFootage: .evidenceTaskNoFootage
        case .exported: .evidenceTaskExported
        case .collected: .evidenceTaskCollected
        case .cancelled: .evidenceTaskCancelled
        }
    }
}

/// A change partners hear of, built by Domain from the change that caused it and written by Storage to the
/// outbox in the change's transaction; delivered by webhook and listed by `GET /v1/events`.
public struct DomainEvent: Sendable, Hashable {
    /// What happened.
    public var type: EventType
    /// What it happened to, `<kind>/<id>`, e.g. `camera/0b6f…`.
    public var subject: String
    /// The subject's version after the change: events about one subject are ordered by it.
    public var sequence: Int
    /// The organisations that may hear of it.
    public var audience: [UUID]
    /// About something covert: only keys (and endpoints) with covert access hear of it.
    public var covert: Bool
    /// Its data: the subject's `id` and `version`, and whatever else a partner needs, never more than it may see.
    public var payload: JSONObject

    /// An event about the `kind` with `id` at `version`; `fields` join `id` and `version` in the payload.
    public init(_ type: EventType, kind: String, id: UUID, version: Int, audience: [UUID], covert: Bool = false, fields: JSONObject = [:]) {
        self.type = type
        subject = kind + "/" + id.uuidString.lowercased()
        sequence = version
        self.audience = Array(Set(audience)).sorted { $0.uuidString < $1.uuidString }
        self.covert = covert
        payload = fields.merging(["id": .id(id), "version": .integer(version)]) { _, new in new }
    }
}

// MARK: The registry

extension DomainEvent {
    /// A camera's event goes to its owner, the operator of the room that monitors it, the authority of the
    /// borough it stands in and every police force; a covert camera's only to its owner and the police (and,
    /// among their keys, only to those with covert access).
    public static func camera(
        _ type: EventType, id: UUID, version: Int, status: CameraStatus, previousStatus: CameraStatus? = nil, covert: Bool, owner: UUID,
        roomOperator: UUID?, boroughAuthority: UUID?, policeForces: [UUID]
    ) -> DomainEvent {
        let audience = covert ? [owner] + policeForces : [owner] + [roomOperator, boroughAuthority].compactMap { $0 } + policeForces
        var fields: JSONObject = ["status": .string(status.rawValue)]
        if let previousStatus, previousStatus != status { fields["previous_status"] = .string(previousStatus.rawValue) }
        return DomainEvent(type, kind: "camera", id: id, version: version, audience: audience, covert: covert, fields: fields)
    }

    /// `camera.updated`, or `camera.status_changed` when its status moved, for `camera` as it now is.
    public static func cameraChanged(
        _ camera: Camera, previousStatus: CameraStatus, roomOperator: UUID?, boroughAuthority: UUID?, policeForces: [UUID]
    ) -> DomainEvent {
        .camera(
            previousStatus == camera.draft.status ? .cameraUpdated : .cameraStatusChanged, id: camera.id, version: camera.version,
            status: camera.draft.status, previousStatus: previousStatus, covert: camera.draft.covert, owner: camera.ownerOrganisationID,
            roomOperator: roomOperator, boroughAuthority: boroughAuthority, policeForces: policeForces
        )
    }

    /// A control room's event goes to its operator, the authorities of the boroughs it serves and every police force.
    public static func controlRoom(_ type: EventType, _ room: ControlRoom, boroughAuthorities: [UUID], policeForces: [UUID]) -> DomainEvent {
        DomainEvent(
            type, kind: "control_room", id: room.id, version: room.version,
            audience: [room.operatorOrganisationID] + boroughAuthorities + policeForces
        )
    }

    /// An embedding arrangement's event goes to the room's operator, the boroughs it serves and the force.
    public static func embedding(
        _ type: EventType, _ arrangement: EmbeddingArrangement, roomOperator: UUID, boroughAuthorities: [UUID]
    ) -> DomainEvent {
        var fields: JSONObject = ["control_room_id": .id(arrangement.controlRoomID), "model": .string(arrangement.draft.model.rawValue)]
        if let endsOn = arrangement.draft.endsOn { fields["ends_on"] = .string(endsOn.description) }
        return DomainEvent(
            type, kind: "embedding_arrangement", id: arrangement.id, version: arrangement.version,
            audience: [roomOperator, arrangement.policeOrganisationID] + boroughAuthorities, fields: fields
        )
    }
}

// MARK: Evidence

extension DomainEvent {
    /// An evidence request's event goes to its requester and the holders of its tasks (the covert ones aside).
    public static func evidenceRequest(
        _ type: EventType, id: UUID, version: Int, reference: String, status: EvidenceRequestStatus, requester: UUID, visibleHolders: [UUID]
    ) -> DomainEvent {
        DomainEvent(
            type, kind: "evidence_request", id: id, version: version, audience: [requester] + visibleHolders,
            fields: ["reference": .string(reference), "status": .string(status.rawValue)]
        )
    }

    /// An evidence task's event goes to its requester and its holder; a covert task's only to their keys with
    /// covert access. An alert or escalation adds what it warns of, and a hold its end.
    public static func evidenceTask(
        _ type: EventType, _ task: EvidenceTask, alert: EvidenceAlert? = nil, escalation: EvidenceEscalation? = nil
    ) -> DomainEvent {
        var fields: JSONObject = [
            "request_id": .id(task.requestID), "reference": .string(task.reference), "status": .string(task.status.rawValue),
            "at_risk": .boolean(task.atRisk), "escalation_level": .integer(task.escalationLevel),
        ]
        if let holdUntil = task.holdUntil, task.holdReleasedAt == nil {
            fields["hold_until"] = .string(holdUntil.rfc3339)
        }
        if let alert { fields.merge(alert.eventFields) { _, new in new } }
        if let escalation { fields.merge(escalation.eventFields) { _, new in new } }
        return DomainEvent(
            type, kind: "evidence_task", id: task.id, version: task.version, audience: [task.requesterOrganisationID, task.holder.organisationID],
            covert: task.covert, fields: fields
        )
    }
}

// MARK: Proposals

extension EventType {
    /// The type a proposal's move to `status` announces.
    public static func proposal(becoming status: ProposalStatus) -> EventType {
        switch status {
        case .draft: .proposalCreated
        case .consultation: .proposalConsultationOpened
        case .submitted: .proposalSubmitted
        case .approved, .rejected: .proposalDecided
        case .implementing: .proposalImplementationStarted
        case .implemented: .proposalImplemented
        case .withdrawn: .proposalWithdrawn
        }
    }
}

extension DomainEvent {
    /// A proposal's event goes to its lead, the organisations running its rooms, MOPAC, and the police forces
    /// with arrangements in those rooms. `fields` add what changed (the endorsement, the milestone).
    public static func proposal(
        _ type: EventType, _ proposal: Proposal, mopac: [UUID], policeWithArrangements: [UUID], fields: JSONObject = [:]
    ) -> DomainEvent {
        var payload: JSONObject = ["title": .string(proposal.draft.title), "status": .string(proposal.status.rawValue)]
        if let decision = proposal.decision {
            payload["outcome"] = .string(decision.outcome.rawValue)
            payload["decision_reference"] = .string(decision.reference)
        }
        return DomainEvent(
            type, kind: "proposal", id: proposal.id, version: proposal.version,
            audience: [proposal.leadOrganisationID] + proposal.participants + mopac + policeWithArrangements,
            fields: payload.merging(fields) { _, new in new }
        )
    }
}

// MARK: Reports

extension DomainEvent {
    /// A night's report, stored: its organisation hears (MOPAC, for the pan-London report) and fetches it by id.
    public static func reportReady(id: UUID, kind: ReportKind, date: Day, organisation: UUID?, audience: [UUID]) -> DomainEvent {
        var fields: JSONObject = ["kind": .string(kind.rawValue), "report_date": .string(date.description)]
        if let organisation { fields["organisation_id"] = .id(organisation) }
        return DomainEvent(.reportReady, kind: "report", id: id, version: 1, audience: audience, fields: fields)
    }
}

// MARK: Webhooks

extension DomainEvent {
    /// An endpoint disabled by the dispatcher: its organisation hears, through its other endpoints.
    public static func webhookEndpointDisabled(id: UUID, version: Int, organisation: UUID, reason: WebhookDisabledReason, url: String) -> DomainEvent
    {
        DomainEvent(
            .webhookEndpointDisabled, kind: "webhook_endpoint", id: id, version: version, audience: [organisation],
            fields: ["reason": .string(reason.rawValue), "url": .string(url)]
        )
    }

    /// The test event for the endpoint `endpointID`: about a subject of its own, heard by no organisation (it is
    /// delivered to that one endpoint directly, never listed).
    public static func webhookTest(endpointID: UUID) -> DomainEvent {
        var event = DomainEvent(
            .webhookTest, kind: "webhook_test", id: UUID(), version: 1, audience: [], fields: ["message": "A test event from Sightline."])
        event.payload["id"] = .id(endpointID)
        return event
    }
}
