import Foundation

/// What an API key may do; every key has exactly one.
public enum Role: String, Sendable, CaseIterable, Codable {
    /// Runs Sightline: manages organisations and any organisation's keys.
    case admin
    /// Manages its own organisation's keys and webhook endpoints.
    case partnerAdmin = "partner_admin"
    /// Control-room staff: keep rooms and cameras current, work the queue of footage tasks.
    case `operator`
    /// An investigator: asks for footage and follows the request.
    case requester
    /// Police staff placed in a borough room, acting on that room's tasks for their own force.
    case embeddedOfficer = "embedded_officer"
    /// MOPAC planning: shared control-room proposals and pan-London figures.
    case planner
    /// Reads statistics and reports, never personal data.
    case analyst
    /// Reads and verifies the audit log.
    case auditor
}

/// Who is calling: the key's organisation, role and covert access, established by authentication.
public struct Principal: Sendable, Hashable {
    /// The key's id.
    public var keyID: UUID
    /// The key's visible prefix, safe to log.
    public var keyPrefix: String
    /// The organisation the key belongs to.
    public var organisationID: UUID
    /// What kind of organisation that is.
    public var organisationKind: OrganisationKind
    /// The key's role.
    public var role: Role
    /// Whether the key may see covert cameras (within the rules of neither confirm nor deny).
    public var covertAccess: Bool

    /// A principal from its parts.
    public init(keyID: UUID, keyPrefix: String, organisationID: UUID, organisationKind: OrganisationKind, role: Role, covertAccess: Bool) {
        self.keyID = keyID
        self.keyPrefix = keyPrefix
        self.organisationID = organisationID
        self.organisationKind = organisationKind
        self.role = role
        self.covertAccess = covertAccess
    }
}
