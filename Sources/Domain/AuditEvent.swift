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

/// Who is acting and from where, as every audit row records it: the key and organisation, the client's
/// address and the request id. Every write to the database takes one, so its audit row is written in the
/// same transaction.
public struct AuditActor: Sendable, Hashable {
    /// The prefix of the key used, when one was presented.
    public var keyPrefix: String?
    /// The caller's organisation, when known.
    public var organisationID: UUID?
    /// The client's address, or `cli` for the command line.
    public var clientAddress: String?
    /// The request id.
    public var requestID: String?
    /// The person at the key, when the request named one (`Sightline-Person`).
    public var person: NamedPerson?

    /// An actor.
    public init(
        keyPrefix: String? = nil, organisationID: UUID? = nil, clientAddress: String? = nil, requestID: String? = nil, person: NamedPerson? = nil
    ) {
        self.keyPrefix = keyPrefix
        self.organisationID = organisationID
        self.clientAddress = clientAddress
        self.requestID = requestID
        self.person = person
    }

    /// Someone at the server's command line (`sightline keys …`, `sightline seed …`): whoever may run the
    /// binary against the database. The command is the "request".
    public static func commandLine(_ command: String) -> AuditActor {
        AuditActor(clientAddress: "cli", requestID: command)
    }

    /// The evidence scheduler: alerts it raises and content it purges (client address `scheduler`).
    public static let scheduler = AuditActor(clientAddress: "scheduler")

    /// The webhook dispatcher: endpoints it disables (client address `dispatcher`), on behalf of their organisation.
    public static func dispatcher(for organisationID: UUID) -> AuditActor { AuditActor(organisationID: organisationID, clientAddress: "dispatcher") }

    /// The event of this actor doing `action`.
    public func event(
        _ action: String, _ outcome: AuditEvent.Outcome, entityType: String? = nil, entityID: String? = nil,
        detail: JSONObject = [:]
    ) -> AuditEvent {
        var detail = detail
        if let person {
            detail["person_number"] = .string(person.number)
            detail["person_name"] = .string(person.name)
        }
        return AuditEvent(
            action: action, outcome: outcome, keyPrefix: keyPrefix, organisationID: organisationID, entityType: entityType,
            entityID: entityID, clientAddress: clientAddress, requestID: requestID, detailJSON: detail.jsonText
        )
    }
}
