import Domain
import Foundation
import Storage

/// Audit rows from what the request knows: the caller, the client's address and the request id.
struct Auditor: Sendable {
    let store: AuditStore

    /// The actor of the request being handled: `caller`, or an unauthenticated client presenting `keyPrefix`.
    func actor(_ caller: Principal?, keyPrefix: String? = nil, organisationID: UUID? = nil) -> AuditActor {
        AuditActor(
            keyPrefix: caller?.keyPrefix ?? keyPrefix, organisationID: caller?.organisationID ?? organisationID,
            clientAddress: RequestInfo.current?.clientAddress, requestID: RequestInfo.current?.requestID, person: RequestInfo.current?.namedPerson
        )
    }

    /// Records something that changes nothing else (a refusal, a read); writes pass `actor` to their store,
    /// which records in the write's own transaction.
    func record(
        _ action: String, _ outcome: AuditEvent.Outcome, by actor: AuditActor, entityType: String? = nil, entityID: String? = nil,
        detail: JSONObject = [:]
    ) async throws {
        try await store.record(actor.event(action, outcome, entityType: entityType, entityID: entityID, detail: detail))
    }
}
