import Foundation

/// Where a holder's task stands (DESIGN §4.1 step 4).
public enum EvidenceTaskStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case pending, acknowledged, exported, collected, rejected
    case noFootage = "no_footage"
    case cancelled

    /// Still waiting on the holder.
    public var isLive: Bool { self == .pending || self == .acknowledged }

    /// Done with for good: collected, rejected, without footage or cancelled (an exported task still awaits collection).
    public var isSettled: Bool { self == .collected || self == .rejected || self == .noFootage || self == .cancelled }
}

/// A move of a task, sent as `{"action": …}` to `POST /v1/evidence-tasks/{id}/transitions`.
public enum EvidenceTaskAction: String, Sendable, Hashable, CaseIterable, Codable {
    /// The holder accepts and places a preservation hold.
    case acknowledge
    /// The holder refuses, with a reason.
    case reject
    /// The holder has nothing, with a reason.
    case recordNoFootage = "record_no_footage"
    /// The holder has registered every item.
    case export
    /// The requester has taken every item.
    case collect
    /// The requester no longer needs the footage.
    case cancel
    /// The requester needs the footage kept longer: a later `hold_until`.
    case extendHold = "extend_hold"

    /// Which side of the task makes this move.
    public var side: EvidenceSide {
        switch self {
        case .acknowledge, .reject, .recordNoFootage, .export: .holder
        case .collect, .cancel, .extendHold: .requester
        }
    }
}

/// The two parties to a task.
public enum EvidenceSide: Sendable, Hashable {
    case holder, requester
}

/// Why a holder rejects a task.
public enum RejectionReason: String, Sendable, Hashable, CaseIterable, Codable {
    case insufficientLegalBasis = "insufficient_legal_basis"
    case outsideJurisdiction = "outside_jurisdiction"
    case duplicate, other
}

/// Why a holder has no footage.
public enum NoFootageReason: String, Sendable, Hashable, CaseIterable, Codable {
    case overwritten
    case cameraNotRecording = "camera_not_recording"
    case cameraFaulty = "camera_faulty"
    case viewObstructed = "view_obstructed"
    case notCoveringLocation = "not_covering_location"
    case other
}

/// What happened with one camera of a task.
public enum CameraOutcome: String, Sendable, Hashable, CaseIterable, Codable {
    case pending, exported
    case noFootage = "no_footage"
    case rejected, cancelled
}

/// The task state machine: which moves each state allows, and where each leads.
public enum EvidenceTaskMachine {
    /// The moves a task in `status` allows, whoever makes them: `export` once it has an item, and
    /// `extend_hold` while a hold is in place.
    public static func actions(from status: EvidenceTaskStatus, hasItems: Bool = true) -> [EvidenceTaskAction] {
        switch status {
        case .pending: [.acknowledge, .reject, .recordNoFootage, .cancel]
        case .acknowledged: [.reject, .recordNoFootage] + (hasItems ? [.export] : []) + [.cancel, .extendHold]
        case .exported: [.collect, .extendHold]
        case .collected, .rejected, .noFootage, .cancelled: []
        }
    }

    /// The state `action` leads to from `status`; a move the state does not allow is a conflict naming those
    /// `allowedToCaller` (the moves the caller may make now).
    public static func next(
        from status: EvidenceTaskStatus, by action: EvidenceTaskAction, hasItems: Bool = true, allowedToCaller: [EvidenceTaskAction]
    ) throws(StateConflict) -> EvidenceTaskStatus {
        guard actions(from: status, hasItems: hasItems).contains(action) else {
            let allowed = allowedToCaller.map(\.rawValue)
            let rest = allowed.isEmpty ? "; it allows no further move by you." : "; allowed: " + allowed.joined(separator: ", ") + "."
            let why =
                action == .export && status == .acknowledged
                ? "A task with no item registered cannot export" : "A task that is \(status.rawValue) cannot \(action.rawValue)"
            throw StateConflict(why + rest, allowedActions: allowed)
        }
        switch action {
        case .acknowledge: return .acknowledged
        case .reject: return .rejected
        case .recordNoFootage: return .noFootage
        case .export: return .exported
        case .collect: return .collected
        case .cancel: return .cancelled
        case .extendHold: return status
        }
    }

    /// Whether a task in `status` keeps its hold: until it is collected, or settled without footage.
    public static func keepsHold(_ status: EvidenceTaskStatus) -> Bool { status == .acknowledged || status == .exported }

    /// The outcome of a camera still pending when the task moves to `status`; `nil` if it stays as it is.
    public static func cameraOutcome(whenTaskBecomes status: EvidenceTaskStatus) -> CameraOutcome? {
        switch status {
        case .rejected: .rejected
        case .noFootage, .exported: .noFootage
        case .cancelled: .cancelled
        case .pending, .acknowledged, .collected: nil
        }
    }

    /// A request's status from its tasks' (§4.1 step 5); a request without tasks found nothing.
    public static func requestStatus(_ tasks: [EvidenceTaskStatus]) -> EvidenceRequestStatus {
        if tasks.contains(where: \.isLive) { return .open }
        if tasks.contains(where: { $0 == .exported || $0 == .collected }) { return .completed }
        if !tasks.isEmpty && tasks.allSatisfy({ $0 == .cancelled }) { return .cancelled }
        return .noFootage
    }
}

/// Who may do what with evidence (DESIGN §6, §4.1 step 6).
public enum EvidenceRules {
    /// The facts about one task that its rules need.
    public struct TaskParties: Sendable, Hashable {
        public var requesterOrganisationID: UUID
        public var holderOrganisationID: UUID
        /// Every camera of the task is covert.
        public var covert: Bool
        /// The caller's force has an active `embedded` arrangement with the task's room.
        public var callerEmbeddedInRoom: Bool

        /// Parties from their parts.
        public init(requesterOrganisationID: UUID, holderOrganisationID: UUID, covert: Bool, callerEmbeddedInRoom: Bool) {
            self.requesterOrganisationID = requesterOrganisationID
            self.holderOrganisationID = holderOrganisationID
            self.covert = covert
            self.callerEmbeddedInRoom = callerEmbeddedInRoom
        }
    }

    /// Whether `caller` may see a task at all: its requester or holder organisation, and for a covert task only
    /// keys that may know of its cameras. Everyone else gets the 404 of a task that does not exist.
    public static func maySee(_ task: TaskParties, caller: Principal) -> Bool {
        guard caller.organisationID == task.requesterOrganisationID || caller.organisationID == task.holderOrganisationID else { return false }
        return !task.covert || CovertVisibility(for: caller).includes(covertOwnedBy: task.holderOrganisationID)
    }

    /// The sides of a task `caller` may act for: the holder's operators and partner admins for the holder; an
    /// embedded officer of the requesting force for the holder too, in a room where that force is embedded
    /// (§4.1 step 6); the requesting organisation's requesters and embedded officers for the requester.
    public static func sides(of task: TaskParties, for caller: Principal) -> Set<EvidenceSide> {
        var sides: Set<EvidenceSide> = []
        if caller.organisationID == task.holderOrganisationID && [.operator, .partnerAdmin].contains(caller.role) { sides.insert(.holder) }
        if caller.role == .embeddedOfficer && caller.organisationID == task.requesterOrganisationID && task.callerEmbeddedInRoom {
            sides.insert(.holder)
        }
        if caller.organisationID == task.requesterOrganisationID && [.requester, .embeddedOfficer].contains(caller.role) { sides.insert(.requester) }
        return sides
    }

    /// The moves `caller` may make now on a task in `status` (with items registered or not).
    public static func allowedActions(_ task: TaskParties, status: EvidenceTaskStatus, hasItems: Bool, caller: Principal) -> [EvidenceTaskAction] {
        let sides = sides(of: task, for: caller)
        return EvidenceTaskMachine.actions(from: status, hasItems: hasItems).filter { sides.contains($0.side) }
    }

    /// Checks that `caller` may make moves of `side` on a task (it can see).
    public static func check(_ side: EvidenceSide, of task: TaskParties, by caller: Principal) throws(Forbidden) {
        guard sides(of: task, for: caller).contains(side) else {
            throw Forbidden(
                side == .holder
                    ? "Only the holder's operators and partner admins, or an officer of the requesting force embedded in the room, act for the holder."
                    : "Only the requesting organisation's requesters and embedded officers act for the requester."
            )
        }
    }
}

/// What a holder needs to know of one camera of a task to find its footage.
public struct TaskCameraFacts: Sendable, Hashable {
    /// The holder's own reference for it.
    public var externalRef: String?
    public var kind: CameraKind
    public var location: Location
    public var headingDegrees: Double?
    public var fieldOfViewDegrees: Double?

    /// Facts from their parts.
    public init(externalRef: String?, kind: CameraKind, location: Location, headingDegrees: Double?, fieldOfViewDegrees: Double?) {
        self.externalRef = externalRef
        self.kind = kind
        self.location = location
        self.headingDegrees = headingDegrees
        self.fieldOfViewDegrees = fieldOfViewDegrees
    }

    /// Where `incident` lies from this camera.
    public func sightline(to incident: Location) -> CameraSightline {
        CameraSightline(from: location, kind: kind, heading: headingDegrees, fieldOfView: fieldOfViewDegrees, to: incident)
    }
}

/// A task as stored.
public struct EvidenceTask: Sendable, Hashable, Identifiable {
    /// One camera of the task.
    public struct Camera: Sendable, Hashable {
        public var cameraID: UUID
        public var overwriteAt: Date
        public var covert: Bool
        public var outcome: CameraOutcome
        public var facts: TaskCameraFacts

        /// A task camera from its parts.
        public init(cameraID: UUID, overwriteAt: Date, covert: Bool, outcome: CameraOutcome, facts: TaskCameraFacts) {
            self.cameraID = cameraID
            self.overwriteAt = overwriteAt
            self.covert = covert
            self.outcome = outcome
            self.facts = facts
        }
    }

    public var id: UUID
    public var requestID: UUID
    /// The request's reference.
    public var reference: String
    public var requesterOrganisationID: UUID
    public var holder: EvidenceHolder
    public var status: EvidenceTaskStatus
    public var priority: EvidencePriority
    public var ackDueAt: Date
    public var exportDueAt: Date
    public var overwriteAt: Date
    public var atRisk: Bool
    /// Until when the holder keeps the footage; set on acknowledge, extended by the requester.
    public var holdUntil: Date?
    /// When the hold ended with the task (collected, or settled without footage).
    public var holdReleasedAt: Date?
    /// 0 while no deadline is breached; 1 when the deadline that matters now passed, one more every 24 h after.
    public var escalationLevel: Int
    public var acknowledgedAt: Date?
    public var outcomeReason: String?
    public var outcomeNotes: String?
    /// Every camera is covert.
    public var covert: Bool
    public var cameras: [Camera]
    /// How many items are registered.
    public var itemCount: Int
    /// The request, as the holder needs it.
    public var brief: EvidenceBrief
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    /// A task from its parts.
    public init(
        id: UUID, requestID: UUID, reference: String, requesterOrganisationID: UUID, holder: EvidenceHolder, status: EvidenceTaskStatus,
        priority: EvidencePriority, ackDueAt: Date, exportDueAt: Date, overwriteAt: Date, atRisk: Bool, holdUntil: Date?, holdReleasedAt: Date? = nil,
        escalationLevel: Int = 0, acknowledgedAt: Date?, outcomeReason: String?, outcomeNotes: String?, covert: Bool, cameras: [Camera],
        itemCount: Int = 0, brief: EvidenceBrief, createdAt: Date, updatedAt: Date, version: Int
    ) {
        self.id = id
        self.requestID = requestID
        self.reference = reference
        self.requesterOrganisationID = requesterOrganisationID
        self.holder = holder
        self.status = status
        self.priority = priority
        self.ackDueAt = ackDueAt
        self.exportDueAt = exportDueAt
        self.overwriteAt = overwriteAt
        self.atRisk = atRisk
        self.holdUntil = holdUntil
        self.holdReleasedAt = holdReleasedAt
        self.escalationLevel = escalationLevel
        self.acknowledgedAt = acknowledgedAt
        self.outcomeReason = outcomeReason
        self.outcomeNotes = outcomeNotes
        self.covert = covert
        self.cameras = cameras
        self.itemCount = itemCount
        self.brief = brief
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }

    /// The facts its rules need, with whether the caller's force is embedded in its room.
    public func parties(callerEmbeddedInRoom: Bool) -> EvidenceRules.TaskParties {
        .init(
            requesterOrganisationID: requesterOrganisationID, holderOrganisationID: holder.organisationID, covert: covert,
            callerEmbeddedInRoom: callerEmbeddedInRoom
        )
    }

    /// Whether its hold has run out at `now` with the footage still wanted (not yet collected).
    public func holdExpired(at now: Date) -> Bool {
        guard let holdUntil, holdReleasedAt == nil, EvidenceTaskMachine.keepsHold(status) else { return false }
        return holdUntil <= now
    }
}

/// Which tasks a queue covers.
public struct EvidenceTaskFilter: Sendable, Hashable {
    public var status: EvidenceTaskStatus?
    public var controlRoomID: UUID?
    public var priority: EvidencePriority?
    public var requestID: UUID?

    /// A filter; every condition given must hold.
    public init(status: EvidenceTaskStatus? = nil, controlRoomID: UUID? = nil, priority: EvidencePriority? = nil, requestID: UUID? = nil) {
        self.status = status
        self.controlRoomID = controlRoomID
        self.priority = priority
        self.requestID = requestID
    }
}

/// How long holders keep footage for a request (`SIGHTLINE_EVIDENCE_MAX_HOLD_DAYS`).
public struct HoldPolicy: Sendable, Hashable {
    /// How long a hold lasts when the holder does not say.
    public static let defaultHold: TimeInterval = 30 * 24 * 3600

    /// The latest a hold may reach, counted from the end of the request's window.
    public var maximumAfterWindow: TimeInterval

    /// A policy; by default a hold reaches at most 90 days after the window.
    public init(maximumAfterWindow: TimeInterval = 90 * 24 * 3600) { self.maximumAfterWindow = maximumAfterWindow }

    /// The latest hold a request whose window ended at `windowTo` allows.
    public func latest(windowTo: Date) -> Date { windowTo.addingTimeInterval(maximumAfterWindow) }
}

/// A move with what it carries, checked before it is tried.
public struct EvidenceTaskMove: Sendable, Hashable {
    public var action: EvidenceTaskAction
    /// For `reject` and `record_no_footage`, one of their reasons.
    public var reason: String?
    public var notes: String?
    /// For `acknowledge` (optional) and `extend_hold` (required).
    public var holdUntil: Date?

    /// A move from its parts.
    public init(action: EvidenceTaskAction, reason: String? = nil, notes: String? = nil, holdUntil: Date? = nil) {
        self.action = action
        self.reason = reason
        self.notes = notes
        self.holdUntil = holdUntil
    }

    /// Checks what the move carries at `now` on `task`, and gives the hold it places: the one asked for, or on
    /// `acknowledge` by default 30 days on (never past the policy's latest); `nil` if it places none.
    public func validate(now: Date, task: EvidenceTask, policy: HoldPolicy) throws(ValidationError) -> Date? {
        var problems: [FieldProblem] = []
        switch action {
        case .reject:
            if RejectionReason(rawValue: reason ?? "") == nil {
                problems.append(
                    .init(pointer: "/reason", detail: "must be one of " + RejectionReason.allCases.map(\.rawValue).joined(separator: ", ")))
            }
        case .recordNoFootage:
            if NoFootageReason(rawValue: reason ?? "") == nil {
                problems.append(
                    .init(pointer: "/reason", detail: "must be one of " + NoFootageReason.allCases.map(\.rawValue).joined(separator: ", ")))
            }
        case .acknowledge, .export, .collect, .cancel, .extendHold:
            if reason != nil { problems.append(.init(pointer: "/reason", detail: "is only for reject and record_no_footage")) }
        }
        if let notes, notes.count > 2000 { problems.append(.init(pointer: "/notes", detail: "must be at most 2000 characters")) }
        let latest = policy.latest(windowTo: task.brief.request.windowTo)
        let limit = "at most \(latest.rfc3339) (\(Int(policy.maximumAfterWindow / 86_400)) days after the request's window)"
        var hold: Date?
        switch action {
        case .acknowledge:
            if let holdUntil {
                if holdUntil <= now || holdUntil > latest {
                    problems.append(.init(pointer: "/hold_until", detail: "must be in the future and " + limit))
                }
                hold = holdUntil
            } else {
                let wanted = min(now.addingTimeInterval(HoldPolicy.defaultHold), latest)
                hold = wanted > now ? wanted.wholeMicroseconds : nil
            }
        case .extendHold:
            let current = task.holdUntil ?? now
            if let holdUntil {
                if holdUntil <= max(current, now) {
                    problems.append(.init(pointer: "/hold_until", detail: "must be later than the hold in place and in the future"))
                } else if holdUntil > latest {
                    problems.append(.init(pointer: "/hold_until", detail: "must be " + limit))
                }
            } else {
                problems.append(.init(pointer: "/hold_until", detail: "is required for extend_hold"))
            }
            hold = holdUntil
        case .reject, .recordNoFootage, .export, .collect, .cancel:
            if holdUntil != nil { problems.append(.init(pointer: "/hold_until", detail: "is only for acknowledge and extend_hold")) }
        }
        guard problems.isEmpty else { throw ValidationError(problems) }
        return hold
    }
}
