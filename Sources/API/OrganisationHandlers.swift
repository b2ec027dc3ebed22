import Domain
import Foundation
import OpenAPIRuntime

/// `/v1/organisations` and `/v1/boroughs`.
extension SightlineAPI {
    func listOrganisations(_ input: Operations.ListOrganisations.Input) async throws -> Operations.ListOrganisations.Output {
        let page = try PageRequest(limit: input.query.limit.map(Int.init), cursor: input.query.cursor)
        let kind = input.query.kind.flatMap { OrganisationKind(rawValue: $0.rawValue) }
        let result = try await organisations.list(kind: kind, page: page)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.Organisation.init), nextCursor: result.nextCursor?.encoded))))
    }

    func getOrganisation(_ input: Operations.GetOrganisation.Input) async throws -> Operations.GetOrganisation.Output {
        let organisation = try await found(input.path.id) { id in try await organisations.get(id: id) }
        return .ok(.init(body: .json(.init(organisation))))
    }

    func listBoroughs(_ input: Operations.ListBoroughs.Input) async throws -> Operations.ListBoroughs.Output {
        let page = try PageRequest(limit: input.query.limit.map(Int.init), cursor: input.query.cursor)
        let result = try await organisations.listBoroughs(page: page)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.Borough.init), nextCursor: result.nextCursor?.encoded))))
    }

    func getBorough(_ input: Operations.GetBorough.Input) async throws -> Operations.GetBorough.Output {
        guard let code = GSSCode(input.path.gssCode) else {
            throw Problem.notFound("\(input.path.gssCode.prefix(20)) is not the GSS code of a London borough (E09000001–E09000033).")
        }
        guard let borough = try await organisations.borough(gssCode: code) else { throw Problem.notFound() }
        return .ok(.init(body: .json(.init(borough))))
    }
}

extension Components.Schemas.Organisation {
    init(_ model: Organisation) {
        self.init(
            id: model.id.uuidString.lowercased(),
            kind: Components.Schemas.OrganisationKind(rawValue: model.kind.rawValue) ?? .other,
            name: model.name,
            gssCode: model.gssCode?.rawValue,
            createdAt: model.createdAt,
            updatedAt: model.updatedAt
        )
    }
}

extension Components.Schemas.Borough {
    init(_ model: Borough) {
        self.init(gssCode: model.gssCode.rawValue, name: model.name, organisationId: model.organisationID.uuidString.lowercased())
    }
}
