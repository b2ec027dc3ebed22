import Domain
import Foundation
import OpenAPIRuntime
import Storage

/// `/v1/api-keys`.
extension SightlineAPI {
    func createAPIKey(_ input: Operations.CreateAPIKey.Input) async throws -> Operations.CreateAPIKey.Output {
        let caller = try Caller.required()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        var organisationID = caller.organisationID
        if let given = body.organisationId {
            guard let parsed = UUID(uuidString: given) else {
                throw ValidationError([.init(pointer: "/organisation_id", detail: "must be a UUID")])
            }
            organisationID = parsed
        }
        guard let role = Role(rawValue: body.role.rawValue) else { throw ValidationError([.init(pointer: "/role", detail: "is not a role")]) }
        let covert = body.covertAccess ?? false
        try APIKeyRules.checkCreation(
            by: caller, organisationID: organisationID, name: body.name, role: role, covertAccess: covert, expiresAt: body.expiresAt,
            now: clock.now()
        )
        guard let organisation = try await organisations.get(id: organisationID) else {
            throw ValidationError([.init(pointer: "/organisation_id", detail: "is not an organisation")])
        }
        try APIKeyRules.checkRole(role, for: organisation)
        let (key, token) = try await apiKeys.create(
            organisationID: organisationID, name: body.name, role: role, covertAccess: covert, expiresAt: body.expiresAt,
            createdBy: caller.keyID, actor: auditor.actor(caller)
        )
        return .created(.init(body: .json(.init(value1: .init(key), value2: .init(key: token.text)))))
    }

    func listAPIKeys(_ input: Operations.ListAPIKeys.Input) async throws -> Operations.ListAPIKeys.Output {
        let caller = try Caller.required()
        let page = try PageRequest(limit: input.query.limit.map(Int.init), cursor: input.query.cursor)
        var requested: UUID?
        if let given = input.query.organisationId {
            guard let parsed = UUID(uuidString: given) else {
                throw ValidationError([.init(parameter: "organisation_id", detail: "must be a UUID")])
            }
            requested = parsed
        }
        let scope = try APIKeyRules.listScope(requested: requested, caller: caller)
        let result = try await apiKeys.list(organisationID: scope, page: page)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.APIKey.init), nextCursor: result.nextCursor?.encoded))))
    }

    func revokeAPIKey(_ input: Operations.RevokeAPIKey.Input) async throws -> Operations.RevokeAPIKey.Output {
        let caller = try Caller.required()
        // A key of another organisation is answered exactly like a key that does not exist.
        guard let id = UUID(uuidString: input.path.id), let key = try await apiKeys.get(id: id),
            APIKeyRules.canSee(keyOf: key.organisationID, caller: caller),
            let revoked = try await apiKeys.revoke(id: id, actor: auditor.actor(caller))
        else { throw Problem.notFound() }
        authenticator.forget(prefix: revoked.prefix)
        return .ok(.init(body: .json(.init(revoked))))
    }
}

extension Components.Schemas.APIKey {
    init(_ model: APIKey) {
        self.init(
            id: model.id.uuidString.lowercased(),
            organisationId: model.organisationID.uuidString.lowercased(),
            name: model.name,
            role: Components.Schemas.Role(rawValue: model.role.rawValue) ?? .analyst,
            covertAccess: model.covertAccess,
            prefix: model.prefix,
            createdAt: model.createdAt,
            expiresAt: model.expiresAt,
            revokedAt: model.revokedAt,
            lastUsedAt: model.lastUsedAt
        )
    }
}
