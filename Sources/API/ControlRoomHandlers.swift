import Domain
import Foundation
import OpenAPIRuntime
import Storage

/// `/v1/control-rooms`.
extension SightlineAPI {
    func createControlRoom(_ input: Operations.CreateControlRoom.Input) async throws -> Operations.CreateControlRoom.Output {
        let caller = try Caller.required()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        let requested = try RequestParsing.uuid(body.operatorOrgId, pointer: "/operator_org_id")
        let draft = try ControlRoomDraft(body)
        try draft.validate()
        let operatorID = try RegistryRules.owner(requested: requested, caller: caller)
        guard try await organisations.get(id: operatorID) != nil else {
            throw ValidationError([.init(pointer: "/operator_org_id", detail: "is not an organisation")])
        }
        let room = try await controlRooms.create(operatorOrganisationID: operatorID, draft: draft, actor: auditor.actor(caller))
        return .created(.init(headers: .init(eTag: Preconditions.etag(version: room.version)), body: .json(.init(room))))
    }

    func getControlRoom(_ input: Operations.GetControlRoom.Input) async throws -> Operations.GetControlRoom.Output {
        let room = try await found(input.path.id) { id in try await controlRooms.get(id: id) }
        return .ok(.init(headers: .init(eTag: Preconditions.etag(version: room.version)), body: .json(.init(room))))
    }

    func listControlRooms(_ input: Operations.ListControlRooms.Input) async throws -> Operations.ListControlRooms.Output {
        let query = input.query
        var collector = ProblemCollector()
        let page = collector.attempt { () throws(ValidationError) in try PageRequest(limit: query.limit.map(Int.init), cursor: query.cursor) }
        let operatorID = collector.attempt { () throws(ValidationError) in try RequestParsing.uuid(query.operatorOrgId, parameter: "operator_org_id")
        }
        let borough = collector.attempt { () throws(ValidationError) in try RequestParsing.gssCode(query.borough, parameter: "borough") }
        try collector.check()
        guard let page else { throw Problem.malformedBody("The query could not be read.") }
        let filter = ControlRoomFilter(
            operatorOrganisationID: operatorID, boroughServed: borough, status: query.status.flatMap { ControlRoomStatus(rawValue: $0.rawValue) }
        )
        let result = try await controlRooms.list(filter, page: page)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.ControlRoom.init), nextCursor: result.nextCursor?.encoded))))
    }

    func updateControlRoom(_ input: Operations.UpdateControlRoom.Input) async throws -> Operations.UpdateControlRoom.Output {
        let caller = try Caller.required()
        let patch: OpenAPIObjectContainer
        switch input.body {
        case .applicationMergePatchJson(let body), .json(let body): patch = body.additionalProperties
        }
        let current = try await found(input.path.id) { id in try await controlRooms.get(id: id) }
        try RegistryRules.checkWrite(to: current.operatorOrganisationID, by: caller)
        try Preconditions.check(ifMatch: input.headers.ifMatch, currentVersion: current.version)
        if let mergedInto = current.mergedInto {
            throw StateConflict("The room was merged into \(mergedInto.uuidString.lowercased()); its record is history and is not changed.")
        }
        let draft = try MergePatch.apply(try RequestParsing.patch(patch), to: current.draft, allowed: ControlRoomDraft.patchableFields)
        try draft.validate()
        guard
            let room = try await controlRooms.update(id: current.id, draft: draft, expectedVersion: current.version, actor: auditor.actor(caller))
        else { throw Problem.notFound() }
        return .ok(.init(headers: .init(eTag: Preconditions.etag(version: room.version)), body: .json(.init(room))))
    }
}

extension ControlRoomDraft {
    init(_ body: Components.Schemas.ControlRoomCreate) throws(ValidationError) {
        let reviewedOn = try Day.parse(body.costsReviewedOn, at: "/costs_reviewed_on")
        self.init(
            name: body.name, location: body.location.map { Location(lat: $0.lat, lon: $0.lon) }, address: body.address,
            boroughsServed: body.boroughsServed, hours: body.hours ?? "24x7", operatorPositions: body.operatorPositions,
            vmsPlatform: body.vmsPlatform, exportFormats: body.exportFormats ?? [], defaultRetentionDays: body.defaultRetentionDays ?? 31,
            annualCostPence: body.annualCostPence.map(Int.init), staffFTE: body.staffFte, costsReviewedOn: reviewedOn,
            status: body.status.flatMap { ControlRoomStatus(rawValue: $0.rawValue) } ?? .active
        )
    }
}

extension Components.Schemas.ControlRoom {
    init(_ room: ControlRoom) {
        let draft = room.draft
        self.init(
            id: room.id.uuidString.lowercased(), operatorOrgId: room.operatorOrganisationID.uuidString.lowercased(), name: draft.name,
            location: draft.location.map(Components.Schemas.Location.init), address: draft.address, boroughsServed: draft.boroughsServed,
            hours: draft.hours, operatorPositions: draft.operatorPositions, vmsPlatform: draft.vmsPlatform, exportFormats: draft.exportFormats,
            defaultRetentionDays: draft.defaultRetentionDays, annualCostPence: draft.annualCostPence.map(Int64.init), staffFte: draft.staffFTE,
            costsReviewedOn: draft.costsReviewedOn?.description,
            status: Components.Schemas.ControlRoomStatus(rawValue: draft.status.rawValue) ?? .active,
            mergedInto: room.mergedInto?.uuidString.lowercased(), createdAt: room.createdAt,
            updatedAt: room.updatedAt, version: room.version
        )
    }
}
