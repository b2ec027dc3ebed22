import Foundation

/// Where a proposal stands (DESIGN §4.3).
public enum ProposalStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case draft, consultation, submitted, approved, rejected, implementing, implemented, withdrawn
}

/// A move of a proposal; `decide` is made through `/decision`, the rest through `/transitions`.
public enum ProposalAction: String, Sendable, Hashable, CaseIterable, Codable {
    case openConsultation = "open_consultation"
    case submit
    case decide
    case startImplementation = "start_implementation"
    case completeImplementation = "complete_implementation"
    case withdraw
}

/// A participant's position on a proposal.
public enum EndorsementPosition: String, Sendable, Hashable, CaseIterable, Codable {
    case support, object, abstain
}

/// What implementing a proposal does with the police arrangements of the rooms it absorbs.
public enum EmbeddingPlan: String, Sendable, Hashable, CaseIterable, Codable {
    /// They move to the host room.
    case carryOver = "carry_over"
    /// They end on the day the proposal is implemented.
    case end
}

/// What a MOPAC planner decided.
public enum ProposalOutcome: String, Sendable, Hashable, CaseIterable, Codable {
    case approved, rejected
}

/// The states and moves of a proposal.
public enum ProposalMachine {
    /// The moves a proposal in `status` allows, whoever makes them.
    public static func actions(from status: ProposalStatus) -> [ProposalAction] {
        switch status {
        case .draft: [.openConsultation, .withdraw]
        case .consultation: [.submit, .withdraw]
        case .submitted: [.decide, .withdraw]
        case .approved: [.startImplementation]
        case .implementing: [.completeImplementation]
        case .rejected, .implemented, .withdrawn: []
        }
    }

    /// The state `action` leads to from `status` (`decide` to `outcome`); a move the state does not allow is a
    /// conflict naming those `allowedToCaller`.
    public static func next(
        from status: ProposalStatus, by action: ProposalAction, outcome: ProposalOutcome? = nil, allowedToCaller: [ProposalAction]
    ) throws(StateConflict) -> ProposalStatus {
        guard actions(from: status).contains(action) else {
            let allowed = allowedToCaller.map(\.rawValue)
            let rest = allowed.isEmpty ? "; it allows no further move by you." : "; allowed: " + allowed.joined(separator: ", ") + "."
            throw StateConflict("A proposal that is \(status.rawValue) cannot \(action.rawValue)" + rest, allowedActions: allowed)
        }
        switch action {
        case .openConsultation: return .consultation
        case .submit: return .submitted
        case .decide: return outcome == .rejected ? .rejected : .approved
        case .startImplementation: return .implementing
        case .completeImplementation: return .implemented
        case .withdraw: return .withdrawn
        }
    }

    /// Whether milestones may still be added or changed: not once a proposal is rejected or withdrawn.
    public static func keepsMilestones(_ status: ProposalStatus) -> Bool { status != .rejected && status != .withdrawn }
}

/// The room that absorbs the others: an existing participating room, or a new one described here.
public struct ProposalHost: Sendable, Hashable, Codable {
    /// An existing room, one of the participants.
    public var controlRoomID: UUID?
    /// A new room's name.
    public var name: String?
    /// A new room's location.
    public var location: Location?
    /// Operator positions in the merged room; for an existing host, `nil` keeps its own.
    public var operatorPositions: Int?

    enum CodingKeys: String, CodingKey {
        case controlRoomID = "control_room_id"
        case name, location
        case operatorPositions = "operator_positions"
    }

    /// A host from its parts.
    public init(controlRoomID: UUID? = nil, name: String? = nil, location: Location? = nil, operatorPositions: Int? = nil) {
        self.controlRoomID = controlRoomID
        self.name = name
        self.location = location
        self.operatorPositions = operatorPositions
    }

    /// An existing room as the host.
    public static func existing(_ id: UUID, operatorPositions: Int? = nil) -> ProposalHost {
        ProposalHost(controlRoomID: id, operatorPositions: operatorPositions)
    }
}

/// Everything about a proposal its authors set: what a create carries and a PATCH (while a draft) changes.
public struct ProposalDraft: Sendable, Hashable, Codable {
    public var title: String
    public var summary: String?
    /// The rooms that would share one room, the host among them when it exists already.
    public var controlRoomIDs: [UUID]
    public var host: ProposalHost
    public var parameters: AppraisalParameters
    public var oneOffCosts: OneOffCosts
    /// The shared room's running cost a year.
    public var proposedAnnualCostPence: Int
    public var embeddingPlan: EmbeddingPlan

    /// The most rooms one proposal merges.
    public static let maximumRooms = 33

    /// The fields a PATCH may name.
    public static let patchableFields: Set<String> = Set(CodingKeys.allCases.map(\.rawValue))

    enum CodingKeys: String, CodingKey, CaseIterable {
        case title, summary
        case controlRoomIDs = "control_room_ids"
        case host, parameters
        case oneOffCosts = "one_off_costs_pence"
        case proposedAnnualCostPence = "proposed_annual_cost_pence"
        case embeddingPlan = "embedding_plan"
    }

    /// A draft from its parts.
    public init(
        title: String, summary: String? = nil, controlRoomIDs: [UUID], host: ProposalHost, parameters: AppraisalParameters = .greenBook,
        oneOffCosts: OneOffCosts = OneOffCosts(), proposedAnnualCostPence: Int, embeddingPlan: EmbeddingPlan = .carryOver
    ) {
        self.title = title
        self.summary = summary
        self.controlRoomIDs = controlRoomIDs
        self.host = host
        self.parameters = parameters
        self.oneOffCosts = oneOffCosts
        self.proposedAnnualCostPence = proposedAnnualCostPence
        self.embeddingPlan = embeddingPlan
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            title: try c.decode(String.self, forKey: .title), summary: try c.decodeIfPresent(String.self, forKey: .summary),
            controlRoomIDs: try c.decode([UUID].self, forKey: .controlRoomIDs), host: try c.decode(ProposalHost.self, forKey: .host),
            parameters: try c.decodeIfPresent(AppraisalParameters.self, forKey: .parameters) ?? .greenBook,
            oneOffCosts: try c.decodeIfPresent(OneOffCosts.self, forKey: .oneOffCosts) ?? OneOffCosts(),
            proposedAnnualCostPence: try c.decode(Int.self, forKey: .proposedAnnualCostPence),
            embeddingPlan: try c.decodeIfPresent(EmbeddingPlan.self, forKey: .embeddingPlan) ?? .carryOver
        )
    }

    /// The rooms the host absorbs: every participant but an existing host.
    public var absorbedRoomIDs: [UUID] { controlRoomIDs.filter { $0 != host.controlRoomID } }

    /// Every rule a proposal's own fields must keep, each broken one listed with its field. (Whether the rooms
    /// exist, run and are the caller's to propose is checked against the registry.)
    public func validate() throws(ValidationError) {
        var problems: [FieldProblem] = []
        if let problem = TextRules.problem(title, at: "/title", maximum: 200, required: true) { problems.append(problem) }
        if let problem = TextRules.problem(summary, at: "/summary", maximum: 4000) { problems.append(problem) }
        if Set(controlRoomIDs).count != controlRoomIDs.count {
            problems.append(.init(pointer: "/control_room_ids", detail: "must not list a room twice"))
        }
        if controlRoomIDs.count > Self.maximumRooms {
            problems.append(.init(pointer: "/control_room_ids", detail: "must list at most \(Self.maximumRooms) rooms"))
        }
        switch (host.controlRoomID, host.name) {
        case (let id?, nil):
            if !controlRoomIDs.contains(id) {
                problems.append(.init(pointer: "/host/control_room_id", detail: "must be one of control_room_ids (the host is a participant)"))
            }
            if controlRoomIDs.count < 2 {
                problems.append(.init(pointer: "/control_room_ids", detail: "must list at least two rooms: the host and a room it absorbs"))
            }
            if host.location != nil {
                problems.append(.init(pointer: "/host/location", detail: "is given only for a new room; an existing host keeps its own"))
            }
        case (nil, let name?):
            if let problem = TextRules.problem(name, at: "/host/name", maximum: 200, required: true) { problems.append(problem) }
            if let location = host.location {
                problems += location.problems(at: "/host/location")
            } else {
                problems.append(.init(pointer: "/host/location", detail: "is required for a new room"))
            }
            if host.operatorPositions == nil {
                problems.append(.init(pointer: "/host/operator_positions", detail: "is required for a new room"))
            }
            if controlRoomIDs.isEmpty { problems.append(.init(pointer: "/control_room_ids", detail: "must list at least one room")) }
        default:
            problems.append(.init(pointer: "/host", detail: "must name either an existing room (control_room_id) or a new room (name), not both"))
        }
        if let positions = host.operatorPositions, !(0...1000).contains(positions) {
            problems.append(.init(pointer: "/host/operator_positions", detail: "must be from 0 to 1000"))
        }
        problems += parameters.problems(at: "/parameters")
        problems += oneOffCosts.problems(at: "/one_off_costs_pence")
        if let problem = Money.problem(proposedAnnualCostPence, at: "/proposed_annual_cost_pence") { problems.append(problem) }
        guard problems.isEmpty else { throw ValidationError(problems) }
    }
}

/// A participant's recorded position.
public struct ProposalEndorsement: Sendable, Hashable {
    public var id: UUID
    public var organisationID: UUID
    public var position: EndorsementPosition
    public var comment: String?
    public var recordedAt: Date
    /// Whether a later position of the same organisation replaced it.
    public var superseded: Bool

    /// An endorsement from its parts.
    public init(id: UUID, organisationID: UUID, position: EndorsementPosition, comment: String?, recordedAt: Date, superseded: Bool) {
        self.id = id
        self.organisationID = organisationID
        self.position = position
        self.comment = comment
        self.recordedAt = recordedAt
        self.superseded = superseded
    }
}

/// A MOPAC planner's decision on a submitted proposal.
public struct ProposalDecision: Sendable, Hashable {
    public var outcome: ProposalOutcome
    /// The decision's reference, e.g. "PCD 167".
    public var reference: String
    public var decidedOn: Day
    public var text: String
    public var decidedAt: Date

    /// A decision from its parts.
    public init(outcome: ProposalOutcome, reference: String, decidedOn: Day, text: String, decidedAt: Date) {
        self.outcome = outcome
        self.reference = reference
        self.decidedOn = decidedOn
        self.text = text
        self.decidedAt = decidedAt
    }

    /// Checks a decision's fields as given, each broken one listed with its field.
    public static func validate(reference: String?, decidedOn: Day?, text: String?, today: Day) throws(ValidationError) {
        var problems: [FieldProblem] = []
        if let problem = TextRules.problem(reference, at: "/reference", maximum: 100, required: true) { problems.append(problem) }
        if let problem = TextRules.problem(text, at: "/text", maximum: 10_000, required: true) { problems.append(problem) }
        if let decidedOn, decidedOn > today { problems.append(.init(pointer: "/decided_on", detail: "must not be in the future")) }
        guard problems.isEmpty else { throw ValidationError(problems) }
    }
}

/// A step of a proposal's plan, with its due date and, once done, its completion date.
public struct ProposalMilestone: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var title: String
    public var dueOn: Day
    public var completedOn: Day?
    public var version: Int

    /// A milestone from its parts.
    public init(id: UUID, title: String, dueOn: Day, completedOn: Day?, version: Int) {
        self.id = id
        self.title = title
        self.dueOn = dueOn
        self.completedOn = completedOn
        self.version = version
    }

    /// Whether it is past due on `today` and not done.
    public func isOverdue(today: Day) -> Bool { completedOn == nil && dueOn < today }

    /// Checks a milestone's fields, each broken one listed with its field.
    public static func validate(title: String, dueOn: Day, completedOn: Day?, today: Day) throws(ValidationError) {
        var problems: [FieldProblem] = []
        if let problem = TextRules.problem(title, at: "/title", maximum: 200, required: true) { problems.append(problem) }
        if let completedOn, completedOn > today { problems.append(.init(pointer: "/completed_on", detail: "must not be in the future")) }
        guard problems.isEmpty else { throw ValidationError(problems) }
    }
}

/// A proposal as stored.
public struct Proposal: Sendable, Hashable, Identifiable {
    public var id: UUID
    /// The organisation leading it.
    public var leadOrganisationID: UUID
    public var draft: ProposalDraft
    public var status: ProposalStatus
    /// The organisations running the participating rooms: each records a position.
    public var participants: [UUID]
    /// Each participant's current position (its latest).
    public var endorsements: [ProposalEndorsement]
    /// A planner's reason for submitting without every position.
    public var submissionOverrideReason: String?
    public var decision: ProposalDecision?
    public var milestones: [ProposalMilestone]
    public var implementedAt: Date?
    /// The room the proposal created, when its host was a new room and it is implemented.
    public var implementedRoomID: UUID?
    public var createdAt: Date
    public var updatedAt: Date
    /// Bumped by every change; the ETag.
    public var version: Int

    /// A proposal from its parts.
    public init(
        id: UUID, leadOrganisationID: UUID, draft: ProposalDraft, status: ProposalStatus, participants: [UUID], endorsements: [ProposalEndorsement],
        submissionOverrideReason: String?, decision: ProposalDecision?, milestones: [ProposalMilestone], implementedAt: Date?,
        implementedRoomID: UUID?, createdAt: Date, updatedAt: Date, version: Int
    ) {
        self.id = id
        self.leadOrganisationID = leadOrganisationID
        self.draft = draft
        self.status = status
        self.participants = participants
        self.endorsements = endorsements
        self.submissionOverrideReason = submissionOverrideReason
        self.decision = decision
        self.milestones = milestones
        self.implementedAt = implementedAt
        self.implementedRoomID = implementedRoomID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }

    /// The participants with no position recorded.
    public var positionsMissing: [UUID] {
        let recorded = Set(endorsements.map(\.organisationID))
        return participants.filter { !recorded.contains($0) }
    }
}

/// Which proposals a list covers.
public struct ProposalFilter: Sendable, Hashable {
    public var status: ProposalStatus?
    /// Proposals with a participating room serving this borough.
    public var borough: GSSCode?
    /// Proposals in which this room participates.
    public var controlRoomID: UUID?

    /// A filter; every condition given must hold.
    public init(status: ProposalStatus? = nil, borough: GSSCode? = nil, controlRoomID: UUID? = nil) {
        self.status = status
        self.borough = borough
        self.controlRoomID = controlRoomID
    }
}

/// Who may do what with proposals (issue 15). Proposals are read by every key: what is planned for London's
/// rooms is no secret among its partners.
public enum ProposalRules {
    /// Whether `caller` steers `proposal`: a planner, or a partner admin of the lead organisation.
    public static func steers(_ proposal: Proposal, caller: Principal) -> Bool {
        caller.role == .planner || (caller.role == .partnerAdmin && caller.organisationID == proposal.leadOrganisationID)
    }

    /// Whether `caller` decides proposals: a planner of MOPAC.
    public static func decides(_ caller: Principal) -> Bool { caller.role == .planner && caller.organisationKind == .mopac }

    /// The moves `caller` may make on `proposal` now.
    public static func allowedActions(_ proposal: Proposal, caller: Principal) -> [ProposalAction] {
        ProposalMachine.actions(from: proposal.status).filter { action in
            action == .decide ? decides(caller) : steers(proposal, caller: caller)
        }
    }

    /// Checks that `caller` may make `action` on `proposal` (before the state machine says whether it may be made now).
    public static func check(_ action: ProposalAction, on proposal: Proposal, by caller: Principal) throws(Forbidden) {
        if action == .decide {
            guard decides(caller) else { throw Forbidden("Only a MOPAC planner decides a proposal.") }
        } else {
            try checkSteers(proposal, caller: caller)
        }
    }

    /// Checks that `caller` steers `proposal`.
    public static func checkSteers(_ proposal: Proposal, caller: Principal) throws(Forbidden) {
        guard steers(proposal, caller: caller) else {
            throw Forbidden("Only a planner or a partner admin of the lead organisation changes a proposal.")
        }
    }

    /// The lead organisation of a new proposal: a partner admin leads for its own organisation; a planner for
    /// the one it names, or its own.
    public static func lead(requested: UUID?, caller: Principal) throws(Forbidden) -> UUID {
        switch caller.role {
        case .planner:
            return requested ?? caller.organisationID
        case .partnerAdmin:
            guard requested == nil || requested == caller.organisationID else {
                throw Forbidden("A partner admin proposes for its own organisation; a planner may name another lead.")
            }
            return caller.organisationID
        default:
            throw Forbidden("Only a planner or a participating organisation's partner admin proposes a shared room.")
        }
    }

    /// Checks that `caller` may add the rooms in `added` (each with its operator): a partner admin only rooms
    /// its own organisation runs; a planner any.
    public static func checkAdding(_ added: [(index: Int, operatorID: UUID)], by caller: Principal) throws(Forbidden) {
        guard caller.role == .partnerAdmin else { return }
        if let foreign = added.first(where: { $0.operatorID != caller.organisationID }) {
            throw Forbidden(
                "A partner admin adds only rooms its own organisation runs; control_room_ids/\(foreign.index) is another's (a planner may add it)."
            )
        }
    }

    /// Whether `caller` may record a position on `proposal`: a partner admin of a participant. For anyone else there
    /// is no position to record (404).
    public static func mayEndorse(_ proposal: Proposal, caller: Principal) -> Bool {
        caller.role == .partnerAdmin && proposal.participants.contains(caller.organisationID)
    }

    /// Checks the submission `action` may be: with every participant's position, or by a planner giving
    /// `overrideReason` (which only `submit` takes). Returns the reason to record: `nil` when no position was
    /// missing, and for any other move.
    public static func checkSubmission(
        _ proposal: Proposal, by action: ProposalAction, overrideReason: String?, caller: Principal
    ) throws -> String? {
        guard action == .submit else {
            if overrideReason != nil { throw ValidationError([.init(pointer: "/override_reason", detail: "is given only with submit")]) }
            return nil
        }
        if let overrideReason {
            guard caller.role == .planner else { throw Forbidden("Only a planner submits a proposal without every participant's position.") }
            if let problem = TextRules.problem(overrideReason, at: "/override_reason", maximum: 2000, required: true) {
                throw ValidationError([problem])
            }
            return proposal.positionsMissing.isEmpty ? nil : overrideReason
        }
        let missing = proposal.positionsMissing
        guard missing.isEmpty else {
            throw StateConflict(
                "Every participant records a position before submission; missing: "
                    + missing.map { $0.uuidString.lowercased() }.joined(separator: ", ")
                    + ". A planner may submit without them, giving override_reason.",
                allowedActions: allowedActions(proposal, caller: caller).map(\.rawValue)
            )
        }
        return nil
    }
}
