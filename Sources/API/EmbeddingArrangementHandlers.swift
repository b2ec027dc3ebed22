import Domain
import Foundation
import OpenAPIRuntime
import Storage

/// `/v1/embedding-arrangements`.
extension SightlineAPI {
    func createEmbeddingArrangement(
        _ input: Operations.CreateEmbeddingArrangement.Input
    ) async throws -> Operations.CreateEmbeddingArrangement.Output {
        let caller = try Caller.required()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        var collector = ProblemCollector()
        let roomID = collector.attempt { () throws(ValidationError) in try RequestParsing.uuid(body.controlRoomId, pointer: "/control_room_id") }
        let policeID = collector.attempt { () throws(ValidationError) in try RequestParsing.uuid(body.policeOrgId, pointer: "/police_org_id") }
        let draft = collector.attempt { () throws(ValidationError) in try EmbeddingDraft(body) }
        try collector.check()
        guard let roomID, let policeID, let draft else { throw Problem.malformedBody("The body could not be read.") }
        try draft.validate()
        guard let room = try await controlRooms.get(id: roomID) else {
            throw ValidationError([.init(pointer: "/control_room_id", detail: "is not a control room")])
        }
        guard try await organisations.get(id: policeID)?.kind == .police else {
            throw ValidationError([.init(pointer: "/police_org_id", detail: "is not a police force")])
        }
        try RegistryRules.checkArrangementWrite(roomOperator: room.operatorOrganisationID, police: policeID, by: caller)
        let arrangement = try await embeddings.create(
            controlRoomID: roomID, policeOrganisationID: policeID, draft: draft, actor: auditor.actor(caller)
        )
        return .created(
            .init(headers: .init(eTag: Preconditions.etag(version: arrangement.version)), body: .json(.init(arrangement, today: Day(clock.now())))))
    }

    func getEmbeddingArrangement(_ input: Operations.GetEmbeddingArrangement.Input) async throws -> Operations.GetEmbeddingArrangement.Output {
        let arrangement = try await found(input.path.id) { id in try await embeddings.get(id: id) }
        return .ok(
            .init(headers: .init(eTag: Preconditions.etag(version: arrangement.version)), body: .json(.init(arrangement, today: Day(clock.now())))))
    }

    func listEmbeddingArrangements(
        _ input: Operations.ListEmbeddingArrangements.Input
    ) async throws -> Operations.ListEmbeddingArrangements.Output {
        let query = input.query
        var collector = ProblemCollector()
        let page = collector.attempt { () throws(ValidationError) in try PageRequest(limit: query.limit.map(Int.init), cursor: query.cursor) }
        let room = collector.attempt { () throws(ValidationError) in try RequestParsing.uuid(query.controlRoomId, parameter: "control_room_id") }
        let police = collector.attempt { () throws(ValidationError) in try RequestParsing.uuid(query.policeOrgId, parameter: "police_org_id") }
        let activeOn = collector.attempt { () throws(ValidationError) in try Day.parse(query.activeOn, at: "#/parameters/active_on") }
        try collector.check()
        guard let page else { throw Problem.malformedBody("The query could not be read.") }
        let filter = EmbeddingFilter(
            controlRoomID: room, policeOrganisationID: police, activeOn: activeOn,
            model: query.model.flatMap { EmbeddingModel(rawValue: $0.rawValue) }
        )
        let result = try await embeddings.list(filter, page: page)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: result.items.map { Components.Schemas.EmbeddingArrangement($0, today: Day(clock.now())) },
                        nextCursor: result.nextCursor?.encoded))))
    }

    func updateEmbeddingArrangement(
        _ input: Operations.UpdateEmbeddingArrangement.Input
    ) async throws -> Operations.UpdateEmbeddingArrangement.Output {
        let caller = try Caller.required()
        let patch: OpenAPIObjectContainer
        switch input.body {
        case .applicationMergePatchJson(let body), .json(let body): patch = body.additionalProperties
        }
        let arrangement = try await change(arrangementID: input.path.id, ifMatch: input.headers.ifMatch, caller: caller, ending: false) { current in
            try MergePatch.apply(try RequestParsing.patch(patch), to: current, allowed: EmbeddingDraft.patchableFields)
        }
        return .ok(
            .init(headers: .init(eTag: Preconditions.etag(version: arrangement.version)), body: .json(.init(arrangement, today: Day(clock.now())))))
    }

    func endEmbeddingArrangement(_ input: Operations.EndEmbeddingArrangement.Input) async throws -> Operations.EndEmbeddingArrangement.Output {
        let caller = try Caller.required()
        var date: Day?
        if case .json(let body) = input.body { date = try Day.parse(body.endsOn, at: "/ends_on") }
        let today = Day(clock.now())
        let arrangement = try await change(arrangementID: input.path.id, ifMatch: input.headers.ifMatch, caller: caller, ending: true) { current in
            try current.ended(on: date ?? today, today: today)
        }
        return .ok(
            .init(headers: .init(eTag: Preconditions.etag(version: arrangement.version)), body: .json(.init(arrangement, today: Day(clock.now())))))
    }

    /// The one path of every change to an arrangement, as for cameras.
    private func change(
        arrangementID: String, ifMatch: String?, caller: Principal, ending: Bool, edit: (EmbeddingDraft) throws -> EmbeddingDraft
    ) async throws -> EmbeddingArrangement {
        guard let id = UUID(uuidString: arrangementID), let current = try await embeddings.get(id: id),
            let room = try await controlRooms.get(id: current.controlRoomID)
        else { throw Problem.notFound() }
        try RegistryRules.checkArrangementWrite(roomOperator: room.operatorOrganisationID, police: current.policeOrganisationID, by: caller)
        try Preconditions.check(ifMatch: ifMatch, currentVersion: current.version)
        let draft = try edit(current.draft)
        try draft.validate()
        guard
            let changed = try await embeddings.update(
                id: id, draft: draft, expectedVersion: current.version, ended: ending, actor: auditor.actor(caller)
            )
        else { throw Problem.notFound() }
        return changed
    }
}

extension EmbeddingDraft {
    init(_ body: Components.Schemas.EmbeddingArrangementCreate) throws(ValidationError) {
        var collector = ProblemCollector()
        let starts = collector.attempt { () throws(ValidationError) in try Day.parse(body.startsOn, at: "/starts_on") }
        let ends = collector.attempt { () throws(ValidationError) in try Day.parse(body.endsOn, at: "/ends_on") }
        let review = collector.attempt { () throws(ValidationError) in try Day.parse(body.reviewDueOn, at: "/review_due_on") }
        try collector.check()
        guard let starts else { throw ValidationError([.init(pointer: "/starts_on", detail: "is required")]) }
        guard let model = EmbeddingModel(rawValue: body.model.rawValue) else {
            throw ValidationError([.init(pointer: "/model", detail: "is not an embedding model")])
        }
        self.init(
            model: model, staffCount: body.staffCount, hoursPerWeek: body.hoursPerWeek, startsOn: starts, endsOn: ends,
            agreementRef: body.agreementRef, reviewDueOn: review
        )
    }
}

extension Components.Schemas.EmbeddingArrangement {
    init(_ arrangement: EmbeddingArrangement, today: Day) {
        let draft = arrangement.draft
        self.init(
            id: arrangement.id.uuidString.lowercased(), controlRoomId: arrangement.controlRoomID.uuidString.lowercased(),
            policeOrgId: arrangement.policeOrganisationID.uuidString.lowercased(),
            model: Components.Schemas.EmbeddingModel(rawValue: draft.model.rawValue) ?? .visiting, staffCount: draft.staffCount,
            hoursPerWeek: draft.hoursPerWeek, startsOn: draft.startsOn.description, endsOn: draft.endsOn?.description,
            agreementRef: draft.agreementRef, reviewDueOn: draft.reviewDueOn?.description, active: draft.isActive(on: today),
            createdAt: arrangement.createdAt, updatedAt: arrangement.updatedAt, version: arrangement.version
        )
    }
}
