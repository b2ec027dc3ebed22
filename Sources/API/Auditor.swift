import Domain
import Foundation
import Storage

/// Appends to the audit log with what the request knows: its id and the client's address.
struct Auditor: Sendable {
    let store: AuditStore

    /// Records `action` with `outcome`, by `caller` (or an unauthenticated client), on an entity.
    func record(
        _ action: String, _ outcome: AuditEvent.Outcome, caller: Principal?, keyPrefix: String? = nil, organisationID: UUID? = nil,
        entityType: String? = nil, entityID: String? = nil, detail: [String: String] = [:]
    ) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(detail), as: UTF8.self)
        try await store.append(
            AuditEvent(
                action: action, outcome: outcome, keyPrefix: caller?.keyPrefix ?? keyPrefix,
                organisationID: caller?.organisationID ?? organisationID, entityType: entityType, entityID: entityID,
                clientAddress: RequestInfo.current?.clientAddress, requestID: RequestInfo.current?.requestID, detailJSON: json
            )
        )
    }
}
