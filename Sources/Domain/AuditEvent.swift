import Foundation

/// One thing to record in the audit log: who did what to which entity, with what outcome.
public struct AuditEvent: Sendable, Hashable {
    /// How it ended.
    public enum Outcome: String, Sendable, CaseIterable {
        /// Done.
        case success
        /// Refused: authentication failed or the caller may not do it.
        case denied
        /// Attempted and failed.
        case failed
    }

    /// What was done, e.g. `api_key.create`, `authenticate`.
    public var action: String
    /// How it ended.
    public var outcome: Outcome
    /// The prefix of the key used, when one was presented.
    public var keyPrefix: String?
    /// The caller's organisation, when known.
    public var organisationID: UUID?
    /// The kind of entity acted on, e.g. `api_key`.
    public var entityType: String?
    /// The entity's id.
    public var entityID: String?
    /// The client's address.
    public var clientAddress: String?
    /// The request id, to join the log with the server's logs.
    public var requestID: String?
    /// Anything else worth keeping, as a JSON object's text (never secrets).
    public var detailJSON: String

    /// An event; `detailJSON` must be a JSON object.
    public init(
        action: String, outcome: Outcome, keyPrefix: String? = nil, organisationID: UUID? = nil, entityType: String? = nil,
        entityID: String? = nil, clientAddress: String? = nil, requestID: String? = nil, detailJSON: String = "{}"
    ) {
        self.action = action
        self.outcome = outcome
        self.keyPrefix = keyPrefix
        self.organisationID = organisationID
        self.entityType = entityType
        self.entityID = entityID
        self.clientAddress = clientAddress
        self.requestID = requestID
        self.detailJSON = detailJSON
    }
}
