import Foundation

/// A change partners hear of: written to the outbox in the transaction of the change, delivered by webhook
/// and listed by `GET /v1/events`.
public struct RegistryEvent: Sendable, Hashable {
    /// What happened, e.g. `camera.status_changed`.
    public var type: String
    /// What it happened to, e.g. `camera/<id>`.
    public var subject: String
    /// The subject's version after the change: events about one subject are ordered by it.
    public var sequence: Int
    /// The organisations that may hear of it.
    public var audience: [UUID]
    /// About a covert camera: only keys that may know of the camera see it.
    public var covert: Bool
    /// The event's data as a JSON object's text: ids and what changed, never more than a partner may see.
    public var payloadJSON: String

    /// An event from its parts.
    public init(type: String, subject: String, sequence: Int, audience: [UUID], covert: Bool, payloadJSON: String) {
        self.type = type
        self.subject = subject
        self.sequence = sequence
        self.audience = audience
        self.covert = covert
        self.payloadJSON = payloadJSON
    }
}

/// Who hears of what in the registry.
public enum EventAudience {
    /// A camera's event goes to its owner, the operator of the room that monitors it, the authority of the
    /// borough it stands in and every police force; a covert camera's only to its owner and the police (and,
    /// among their keys, only to those with covert access).
    public static func camera(owner: UUID, roomOperator: UUID?, boroughAuthority: UUID?, policeForces: [UUID], covert: Bool) -> [UUID] {
        let everyone = covert ? [owner] + policeForces : [owner] + [roomOperator, boroughAuthority].compactMap { $0 } + policeForces
        return Array(Set(everyone)).sorted { $0.uuidString < $1.uuidString }
    }

    /// A control room's event goes to its operator, the authorities of the boroughs it serves and every police
    /// force.
    public static func controlRoom(operator: UUID, boroughAuthorities: [UUID], policeForces: [UUID]) -> [UUID] {
        Array(Set([`operator`] + boroughAuthorities + policeForces)).sorted { $0.uuidString < $1.uuidString }
    }

    /// An evidence task's event goes to its requester and its holder.
    public static func evidenceTask(requester: UUID, holder: UUID) -> [UUID] {
        Array(Set([requester, holder])).sorted { $0.uuidString < $1.uuidString }
    }

    /// An evidence request's event goes to its requester and the holders of its tasks (the covert ones aside).
    public static func evidenceRequest(requester: UUID, holders: [UUID]) -> [UUID] {
        Array(Set([requester] + holders)).sorted { $0.uuidString < $1.uuidString }
    }

    /// An embedding arrangement's event goes to the room's operator, the boroughs it serves and the force.
    public static func embedding(roomOperator: UUID, boroughAuthorities: [UUID], police: UUID) -> [UUID] {
        Array(Set([roomOperator, police] + boroughAuthorities)).sorted { $0.uuidString < $1.uuidString }
    }
}
