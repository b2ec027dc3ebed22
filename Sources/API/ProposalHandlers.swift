import Domain
import Foundation
import OpenAPIRuntime
import Storage

/// `/v1/proposals`: shared control-room proposals (DESIGN §4.3).
extension SightlineAPI {
    func createProposal(_ input: Operations.CreateProposal.Input) async throws -> Operations.CreateProposal.Output {
        let caller = try Caller.required()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        let draft = try ProposalDraft(body)
        try draft.validate()
        let lead = try ProposalRules.lead(requested: try RequestParsing.uuid(body.leadOrgId, pointer: "/lead_org_id"), caller: caller)
        guard try await organisations.get(id: lead) != nil else {
            throw ValidationError([.init(pointer: "/lead_org_id", detail: "is not an organisation")])
        }
        try await checkRoomsMayBeAdded(draft.controlRoomIDs, to: nil, by: caller)
        let proposal = try await proposals.create(leadOrganisationID: lead, draft: draft, keyID: caller.keyID, actor: auditor.actor(caller))
        return .created(
            .init(
                headers: .init(eTag: Preconditions.etag(version: proposal.version)),
                body: .json(.init(proposal, caller: caller, today: Day(clock.now())))))
    }

    func getProposal(_ input: Operations.GetProposal.Input) async throws -> Operations.GetProposal.Output {
        let caller = try Caller.required()
        let proposal = try await found(input.path.id) { id in try await proposals.get(id: id) }
        return .ok(
            .init(
                headers: .init(eTag: Preconditions.etag(version: proposal.version)),
                body: .json(.init(proposal, caller: caller, today: Day(clock.now())))))
    }

    func listProposals(_ input: Operations.ListProposals.Input) async throws -> Operations.ListProposals.Output {
        let caller = try Caller.required()
        let query = input.query
        var collector = ProblemCollector()
        let page = collector.attempt { () throws(ValidationError) in try PageRequest(limit: query.limit.map(Int.init), cursor: query.cursor) }
        let room = collector.attempt { () throws(ValidationError) in try RequestParsing.uuid(query.controlRoomId, parameter: "control_room_id") }
        let borough = collector.attempt { () throws(ValidationError) in try RequestParsing.gssCode(query.borough, parameter: "borough") }
        try collector.check()
        guard let page else { throw Problem.malformedBody("The query could not be read.") }
        let filter = ProposalFilter(
            status: query.status.flatMap { ProposalStatus(rawValue: $0.rawValue) }, borough: borough ?? nil, controlRoomID: room ?? nil)
        let result = try await proposals.list(filter, page: page)
        return .ok(
            .init(
                body: .json(
                    .init(items: result.items.map { .init($0, caller: caller, today: Day(clock.now())) }, nextCursor: result.nextCursor?.encoded))))
    }

    func updateProposal(_ input: Operations.UpdateProposal.Input) async throws -> Operations.UpdateProposal.Output {
        let caller = try Caller.required()
        let patch: OpenAPIObjectContainer
        switch input.body {
        case .applicationMergePatchJson(let body), .json(let body): patch = body.additionalProperties
        }
        let current = try await found(input.path.id) { id in try await proposals.get(id: id) }
        try ProposalRules.checkSteers(current, caller: caller)
        try Preconditions.check(ifMatch: input.headers.ifMatch, currentVersion: current.version)
        guard current.status == .draft else {
            throw StateConflict(
                "A proposal is changed only while it is a draft; this one is \(current.status.rawValue).",
                allowedActions: ProposalRules.allowedActions(current, caller: caller).map(\.rawValue))
        }
        let draft = try MergePatch.apply(try RequestParsing.patch(patch), to: current.draft, allowed: ProposalDraft.patchableFields)
        try draft.validate()
        try await checkRoomsMayBeAdded(draft.controlRoomIDs, to: current, by: caller)
        guard
            let proposal = try await proposals.update(id: current.id, draft: draft, expectedVersion: current.version, actor: auditor.actor(caller))
        else { throw Problem.notFound() }
        return .ok(
            .init(
                headers: .init(eTag: Preconditions.etag(version: proposal.version)),
                body: .json(.init(proposal, caller: caller, today: Day(clock.now())))))
    }

    func transitionProposal(_ input: Operations.TransitionProposal.Input) async throws -> Operations.TransitionProposal.Output {
        let caller = try Caller.required()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        guard let action = ProposalAction(rawValue: body.action.rawValue), action != .decide else {
            throw ValidationError([.init(pointer: "/action", detail: "is not a proposal move (a decision is made through /decision)")])
        }
        let current = try await found(input.path.id) { id in try await proposals.get(id: id) }
        try ProposalRules.check(action, on: current, by: caller)
        try Preconditions.check(ifMatch: input.headers.ifMatch, currentVersion: current.version)
        let next = try ProposalMachine.next(
            from: current.status, by: action, allowedToCaller: ProposalRules.allowedActions(current, caller: caller))
        let overrideReason = try ProposalRules.checkSubmission(current, by: action, overrideReason: body.overrideReason, caller: caller)
        guard
            let (proposal, _) = try await proposals.transition(
                id: current.id, expectedVersion: current.version, action: action, to: next, overrideReason: overrideReason,
                actor: auditor.actor(caller))
        else { throw Problem.notFound() }
        return .ok(
            .init(
                headers: .init(eTag: Preconditions.etag(version: proposal.version)),
                body: .json(.init(proposal, caller: caller, today: Day(clock.now())))))
    }

    func decideProposal(_ input: Operations.DecideProposal.Input) async throws -> Operations.DecideProposal.Output {
        let caller = try Caller.required()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        let current = try await found(input.path.id) { id in try await proposals.get(id: id) }
        try ProposalRules.check(.decide, on: current, by: caller)
        try Preconditions.check(ifMatch: input.headers.ifMatch, currentVersion: current.version)
        let outcome: ProposalOutcome = body.outcome == .approved ? .approved : .rejected
        _ = try ProposalMachine.next(
            from: current.status, by: .decide, outcome: outcome, allowedToCaller: ProposalRules.allowedActions(current, caller: caller))
        let today = Day(clock.now())
        let decidedOn = try Day.parse(body.decidedOn, at: "/decided_on") ?? today
        try ProposalDecision.validate(reference: body.reference, decidedOn: decidedOn, text: body.text, today: today)
        guard
            let proposal = try await proposals.decide(
                id: current.id, expectedVersion: current.version, outcome: outcome, reference: body.reference, decidedOn: decidedOn,
                text: body.text, actor: auditor.actor(caller))
        else { throw Problem.notFound() }
        return .ok(
            .init(
                headers: .init(eTag: Preconditions.etag(version: proposal.version)),
                body: .json(.init(proposal, caller: caller, today: Day(clock.now())))))
    }

    func recordProposalEndorsement(
        _ input: Operations.RecordProposalEndorsement.Input
    ) async throws -> Operations.RecordProposalEndorsement.Output {
        let caller = try Caller.required()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        let current = try await found(input.path.id) { id in try await proposals.get(id: id) }
        guard ProposalRules.mayEndorse(current, caller: caller) else {
            throw Problem.notFound("Your organisation runs none of this proposal's rooms, so it has no position to record on it.")
        }
        if let problem = TextRules.problem(body.comment, at: "/comment", maximum: 4000) { throw ValidationError([problem]) }
        guard let position = EndorsementPosition(rawValue: body.position.rawValue) else {
            throw ValidationError([.init(pointer: "/position", detail: "must be support, object or abstain")])
        }
        guard
            let (proposal, endorsement) = try await proposals.endorse(
                id: current.id, organisationID: caller.organisationID, position: position, comment: body.comment, keyID: caller.keyID,
                actor: auditor.actor(caller))
        else { throw Problem.notFound() }
        return .created(.init(headers: .init(eTag: Preconditions.etag(version: proposal.version)), body: .json(.init(endorsement))))
    }

    func listProposalEndorsements(
        _ input: Operations.ListProposalEndorsements.Input
    ) async throws -> Operations.ListProposalEndorsements.Output {
        let proposal = try await found(input.path.id) { id in try await proposals.get(id: id) }
        let history = try await proposals.endorsements(proposalID: proposal.id)
        return .ok(.init(body: .json(.init(items: history.map(Components.Schemas.ProposalEndorsement.init)))))
    }

    func addProposalMilestone(_ input: Operations.AddProposalMilestone.Input) async throws -> Operations.AddProposalMilestone.Output {
        let caller = try Caller.required()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        let current = try await found(input.path.id) { id in try await proposals.get(id: id) }
        try ProposalRules.checkSteers(current, caller: caller)
        let milestone = try MilestoneFields(title: body.title, dueOn: body.dueOn, completedOn: body.completedOn, today: Day(clock.now()))
        guard
            let (_, saved) = try await proposals.saveMilestone(
                proposalID: current.id, title: milestone.title, dueOn: milestone.dueOn, completedOn: milestone.completedOn,
                actor: auditor.actor(caller))
        else { throw Problem.notFound() }
        return .created(
            .init(headers: .init(eTag: Preconditions.etag(version: saved.version)), body: .json(.init(saved, today: Day(clock.now())))))
    }

    func updateProposalMilestone(_ input: Operations.UpdateProposalMilestone.Input) async throws -> Operations.UpdateProposalMilestone.Output {
        let caller = try Caller.required()
        let patch: OpenAPIObjectContainer
        switch input.body {
        case .applicationMergePatchJson(let body), .json(let body): patch = body.additionalProperties
        }
        let current = try await found(input.path.id) { id in try await proposals.get(id: id) }
        guard let milestoneID = UUID(uuidString: input.path.milestoneId), let milestone = current.milestones.first(where: { $0.id == milestoneID })
        else { throw Problem.notFound() }
        try ProposalRules.checkSteers(current, caller: caller)
        try Preconditions.check(ifMatch: input.headers.ifMatch, currentVersion: milestone.version)
        let changed = try MergePatch.apply(
            try RequestParsing.patch(patch), to: MilestonePatch(milestone), allowed: MilestonePatch.patchableFields)
        let today = Day(clock.now())
        let fields = try MilestoneFields(title: changed.title, dueOn: changed.dueOn, completedOn: changed.completedOn, today: today)
        guard
            let (_, saved) = try await proposals.saveMilestone(
                proposalID: current.id, milestoneID: milestone.id, expectedVersion: milestone.version, title: fields.title, dueOn: fields.dueOn,
                completedOn: fields.completedOn, actor: auditor.actor(caller))
        else { throw Problem.notFound() }
        return .ok(.init(headers: .init(eTag: Preconditions.etag(version: saved.version)), body: .json(.init(saved, today: today))))
    }

    func getProposalAppraisal(_ input: Operations.GetProposalAppraisal.Input) async throws -> Operations.GetProposalAppraisal.Output {
        let proposal = try await found(input.path.id) { id in try await proposals.get(id: id) }
        let query = input.query
        let overrides = AppraisalOverrides(
            years: query.years, discountRatePercent: query.discountRatePercent, longTermDiscountRatePercent: query.longTermDiscountRatePercent,
            proposedAnnualCostPence: query.proposedAnnualCostPence.map(Int.init),
            oneOffCosts: [
                .fitOut: query.fitOutPence, .network: query.networkPence, .migration: query.migrationPence,
                .staffTransition: query.staffTransitionPence, .other: query.otherPence,
            ].compactMapValues { $0.map(Int.init) })
        let facts = try await proposals.appraisalFacts(proposal)
        let inputs = AppraisalInputs(proposal: proposal, rooms: facts.rooms, arrangements: facts.arrangements, today: Day(clock.now()))
        let appraisal = Appraisal(try overrides.applied(to: inputs))
        return .ok(.init(body: .json(.init(appraisal, proposalID: proposal.id, rooms: facts.rooms, overridden: !overrides.isEmpty))))
    }

    /// Checks that every room in `ids` not already in `current` may be added by `caller`: a partner admin adds
    /// only rooms its organisation runs. Rooms that do not exist are left for the store to name.
    private func checkRoomsMayBeAdded(_ ids: [UUID], to current: Proposal?, by caller: Principal) async throws {
        let known = try await proposals.rooms(ids)
        let existing = Set(current?.draft.controlRoomIDs ?? [])
        let added = ids.enumerated().compactMap { index, id -> (index: Int, operatorID: UUID)? in
            guard !existing.contains(id), let room = known[id] else { return nil }
            return (index, room.operatorOrganisationID)
        }
        try ProposalRules.checkAdding(added, by: caller)
    }
}

/// A milestone's fields as a merge patch sees them.
private struct MilestonePatch: Codable {
    var title: String
    var dueOn: String
    var completedOn: String?

    static let patchableFields: Set<String> = ["title", "due_on", "completed_on"]

    enum CodingKeys: String, CodingKey {
        case title
        case dueOn = "due_on"
        case completedOn = "completed_on"
    }

    init(_ milestone: ProposalMilestone) {
        title = milestone.title
        dueOn = milestone.dueOn.description
        completedOn = milestone.completedOn?.description
    }
}

/// A milestone's fields, parsed and checked.
private struct MilestoneFields {
    let title: String
    let dueOn: Day
    let completedOn: Day?

    init(title: String, dueOn: String, completedOn: String?, today: Day) throws(ValidationError) {
        var collector = ProblemCollector()
        let due = collector.attempt { () throws(ValidationError) in try Day.parse(dueOn, at: "/due_on") }
        let completed = collector.attempt { () throws(ValidationError) in try Day.parse(completedOn, at: "/completed_on") }
        try collector.check()
        guard let due = due ?? nil else { throw ValidationError([.init(pointer: "/due_on", detail: "is required")]) }
        try ProposalMilestone.validate(title: title, dueOn: due, completedOn: completed ?? nil, today: today)
        self.title = title
        self.dueOn = due
        self.completedOn = completed ?? nil
    }
}

extension ProposalDraft {
    init(_ body: Components.Schemas.ProposalCreate) throws(ValidationError) {
        var collector = ProblemCollector()
        let rooms = body.controlRoomIds.enumerated().map { index, text in
            collector.attempt { () throws(ValidationError) in try RequestParsing.uuid(text, pointer: "/control_room_ids/\(index)") } ?? nil
        }
        let hostRoom = collector.attempt { () throws(ValidationError) in
            try RequestParsing.uuid(body.host.controlRoomId, pointer: "/host/control_room_id")
        }
        try collector.check()
        let parameters = body.parameters
        let bias = parameters?.optimismBiasPercent
        let defaults = OptimismBias.greenBookUpperBounds
        let costs = body.oneOffCostsPence
        self.init(
            title: body.title, summary: body.summary, controlRoomIDs: rooms.compactMap { $0 },
            host: ProposalHost(
                controlRoomID: hostRoom ?? nil, name: body.host.name, location: body.host.location.map { Location(lat: $0.lat, lon: $0.lon) },
                operatorPositions: body.host.operatorPositions),
            parameters: AppraisalParameters(
                years: parameters?.years ?? 10, discountRatePercent: parameters?.discountRatePercent ?? 3.5,
                longTermDiscountRatePercent: parameters?.longTermDiscountRatePercent ?? 3.0,
                optimismBias: OptimismBias(
                    fitOut: bias?.fitOut ?? defaults.fitOut, network: bias?.network ?? defaults.network,
                    migration: bias?.migration ?? defaults.migration, staffTransition: bias?.staffTransition ?? defaults.staffTransition,
                    other: bias?.other ?? defaults.other, source: bias?.source ?? defaults.source)),
            oneOffCosts: OneOffCosts(
                fitOut: Int(costs?.fitOut ?? 0), network: Int(costs?.network ?? 0), migration: Int(costs?.migration ?? 0),
                staffTransition: Int(costs?.staffTransition ?? 0), other: Int(costs?.other ?? 0)),
            proposedAnnualCostPence: Int(body.proposedAnnualCostPence),
            embeddingPlan: body.embeddingPlan.flatMap { EmbeddingPlan(rawValue: $0.rawValue) } ?? .carryOver)
    }
}

extension Components.Schemas.Proposal {
    init(_ proposal: Proposal, caller: Principal, today: Day) {
        let draft = proposal.draft
        self.init(
            id: proposal.id.lowercased, title: draft.title, summary: draft.summary, leadOrgId: proposal.leadOrganisationID.lowercased,
            status: Components.Schemas.ProposalStatus(rawValue: proposal.status.rawValue) ?? .draft,
            controlRoomIds: draft.controlRoomIDs.map(\.lowercased),
            host: .init(
                controlRoomId: draft.host.controlRoomID?.lowercased, name: draft.host.name,
                location: draft.host.location.map(Components.Schemas.Location.init), operatorPositions: draft.host.operatorPositions),
            parameters: .init(draft.parameters), oneOffCostsPence: .init(draft.oneOffCosts),
            proposedAnnualCostPence: Int64(draft.proposedAnnualCostPence),
            embeddingPlan: Components.Schemas.EmbeddingPlan(rawValue: draft.embeddingPlan.rawValue) ?? .carryOver,
            participants: proposal.participants.map(\.lowercased),
            endorsements: proposal.endorsements.map(Components.Schemas.ProposalEndorsement.init),
            positionsMissing: proposal.positionsMissing.map(\.lowercased), submissionOverrideReason: proposal.submissionOverrideReason,
            decision: proposal.decision.map { decision in
                .init(
                    outcome: decision.outcome == .approved ? .approved : .rejected, reference: decision.reference,
                    decidedOn: decision.decidedOn.description, text: decision.text, decidedAt: decision.decidedAt)
            },
            milestones: proposal.milestones.map { .init($0, today: today) }, implementedAt: proposal.implementedAt,
            implementedRoomId: proposal.implementedRoomID?.lowercased,
            allowedActions: ProposalRules.allowedActions(proposal, caller: caller).compactMap {
                Components.Schemas.ProposalAction(rawValue: $0.rawValue)
            },
            createdAt: proposal.createdAt, updatedAt: proposal.updatedAt, version: proposal.version)
    }
}

extension Components.Schemas.AppraisalParameters {
    init(_ parameters: AppraisalParameters) {
        let bias = parameters.optimismBias
        self.init(
            years: parameters.years, discountRatePercent: parameters.discountRatePercent,
            longTermDiscountRatePercent: parameters.longTermDiscountRatePercent,
            optimismBiasPercent: .init(
                fitOut: bias.fitOut, network: bias.network, migration: bias.migration, staffTransition: bias.staffTransition, other: bias.other,
                source: bias.source))
    }
}

extension Components.Schemas.OneOffCosts {
    init(_ costs: OneOffCosts) {
        self.init(
            fitOut: Int64(costs.fitOut), network: Int64(costs.network), migration: Int64(costs.migration),
            staffTransition: Int64(costs.staffTransition), other: Int64(costs.other))
    }
}

extension Components.Schemas.ProposalEndorsement {
    init(_ endorsement: ProposalEndorsement) {
        self.init(
            id: endorsement.id.lowercased, organisationId: endorsement.organisationID.lowercased,
            position: .init(rawValue: endorsement.position.rawValue) ?? .abstain, comment: endorsement.comment, recordedAt: endorsement.recordedAt,
            superseded: endorsement.superseded)
    }
}

extension Components.Schemas.ProposalMilestone {
    init(_ milestone: ProposalMilestone, today: Day) {
        self.init(
            id: milestone.id.lowercased, title: milestone.title, dueOn: milestone.dueOn.description, completedOn: milestone.completedOn?.description,
            overdue: milestone.isOverdue(today: today), version: milestone.version)
    }
}

extension Components.Schemas.ProposalAppraisal {
    init(_ appraisal: Appraisal, proposalID: UUID, rooms: [RoomCostFacts], overridden: Bool) {
        self.init(
            proposalId: proposalID.lowercased, parameters: .init(appraisal.parameters),
            baselineAnnualCostPence: Int64(appraisal.baselineAnnualCostPence), proposedAnnualCostPence: Int64(appraisal.proposedAnnualCostPence),
            annualSavingPence: Int64(appraisal.annualSavingPence),
            oneOffCosts: appraisal.oneOffCosts.map { cost in
                .init(
                    category: .init(rawValue: cost.category.rawValue) ?? .other, costPence: Int64(cost.costPence), upliftPercent: cost.upliftPercent,
                    upliftPence: Int64(cost.upliftPence), adjustedPence: Int64(cost.adjustedPence))
            },
            oneOffCostPence: Int64(appraisal.oneOffCostPence), oneOffCostWithOptimismBiasPence: Int64(appraisal.oneOffCostWithOptimismBiasPence),
            paybackYears: appraisal.paybackYears, netPresentValuePence: Int64(appraisal.netPresentValuePence),
            sensitivity: .init(
                saving80PercentPence: Int64(appraisal.netPresentValueLowSavingPence),
                saving120PercentPence: Int64(appraisal.netPresentValueHighSavingPence)),
            years: appraisal.years.map { year in
                .init(
                    year: year.year, discountFactor: (year.discountFactor * 1e10).rounded() / 1e10, savingPence: Int64(year.savingPence),
                    presentValuePence: Int64(year.presentValuePence))
            },
            cameras: appraisal.cameras, positionsBefore: appraisal.positionsBefore, positionsAfter: appraisal.positionsAfter,
            camerasPerPositionBefore: appraisal.camerasPerPositionBefore, camerasPerPositionAfter: appraisal.camerasPerPositionAfter,
            staffFteBefore: appraisal.staffFTEBefore, boroughsCovered: appraisal.boroughsCovered,
            rooms: rooms.map { room in
                .init(
                    controlRoomId: room.id.lowercased, name: room.name, operatorOrgId: room.operatorOrganisationID.lowercased,
                    annualCostPence: room.annualCostPence.map(Int64.init), operatorPositions: room.operatorPositions, staffFte: room.staffFTE,
                    costsReviewedOn: room.costsReviewedOn?.description, cameras: room.cameras, boroughsServed: room.boroughsServed)
            },
            arrangementsAffected: appraisal.arrangementsAffected.map { arrangement in
                .init(
                    id: arrangement.id.lowercased, controlRoomId: arrangement.controlRoomID.lowercased,
                    policeOrgId: arrangement.policeOrganisationID.lowercased, model: .init(rawValue: arrangement.model.rawValue) ?? .visiting,
                    staffCount: arrangement.staffCount)
            },
            roomsMissingCostData: appraisal.roomsMissingCostData.map(\.lowercased),
            roomsWithCostsOutOfDate: appraisal.roomsWithCostsOutOfDate.map(\.lowercased), overridden: overridden)
    }
}

extension UUID {
    /// The id as the API writes it.
    fileprivate var lowercased: String { uuidString.lowercased() }
}
