import Domain
import Foundation
import OpenAPIRuntime
import Storage

/// `/v1/audit`.
extension SightlineAPI {
    func listAuditLog(_ input: Operations.ListAuditLog.Input) async throws -> Operations.ListAuditLog.Output {
        let caller = try Caller.required()
        let page = try PageRequest(limit: input.query.limit.map(Int.init), cursor: input.query.cursor)
        let result = try await auditor.store.list(organisationID: AuditRules.scope(for: caller), action: input.query.action, page: page)
        return .ok(
            .init(body: .json(.init(items: try result.items.map(Components.Schemas.AuditRecord.init), nextCursor: result.nextCursor?.encoded))))
    }

    func verifyAuditLog(_ input: Operations.VerifyAuditLog.Input) async throws -> Operations.VerifyAuditLog.Output {
        let caller = try Caller.required()
        let verification = try await auditor.store.verify()
        try await auditor.record(
            "audit.verify", verification.isValid ? .success : .failed, by: auditor.actor(caller),
            detail: ["checked": .integer(verification.checked), "first_broken_seq": verification.firstBrokenSeq.map(JSONValue.integer) ?? .null]
        )
        return .ok(
            .init(
                body: .json(
                    .init(
                        valid: verification.isValid, checked: verification.checked, firstBrokenSeq: verification.firstBrokenSeq.map(Int64.init),
                        reason: verification.reason
                    ))))
    }
}

extension Components.Schemas.AuditRecord {
    init(_ record: AuditRecord) throws {
        let detail = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(record.event.detailJSON.utf8))
        self.init(
            seq: Int64(record.seq), occurredAt: record.occurredAt, keyPrefix: record.event.keyPrefix,
            organisationId: record.event.organisationID?.uuidString.lowercased(), action: record.event.action,
            entityType: record.event.entityType, entityId: record.event.entityID,
            outcome: OutcomePayload(rawValue: record.event.outcome.rawValue) ?? .failed, clientAddress: record.event.clientAddress,
            requestId: record.event.requestID, detail: .init(additionalProperties: detail), hash: record.hash
        )
    }
}
