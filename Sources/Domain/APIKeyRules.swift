import Foundation

/// Who may create, see and revoke which API keys.
public enum APIKeyRules {
    /// Checks that `caller` may create a key for `organisationID` with `role` and `covertAccess`, expiring at
    /// `expiresAt` (checked against `now`), named `name`. Throws `Forbidden` or `ValidationError`.
    public static func checkCreation(
        by caller: Principal, organisationID: UUID, name: String, role: Role, covertAccess: Bool, expiresAt: Date?, now: Date
    ) throws {
        var problems: [FieldProblem] = []
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty || name.count > 200 { problems.append(.init(pointer: "/name", detail: "must be 1 to 200 characters")) }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            problems.append(.init(pointer: "/name", detail: "must not contain control characters"))
        }
        if let expiresAt, expiresAt <= now { problems.append(.init(pointer: "/expires_at", detail: "must be in the future")) }
        guard problems.isEmpty else { throw ValidationError(problems) }
        guard caller.role == .admin || (caller.role == .partnerAdmin && organisationID == caller.organisationID) else {
            throw Forbidden("A partner admin creates keys only for its own organisation.")
        }
        if role == .admin && caller.role != .admin { throw Forbidden("Only an admin creates admin keys.") }
        if covertAccess && !(caller.role == .admin || caller.covertAccess) {
            throw Forbidden("Only an admin or a key with covert access grants covert access.")
        }
    }

    /// Checks that a key of `role` may belong to `organisation`: an `admin` key acts on every organisation's
    /// objects, so it belongs to the platform operator, never to a borough, force or partner.
    public static func checkRole(_ role: Role, for organisation: Organisation) throws(ValidationError) {
        guard role != .admin || organisation.kind == .platform else {
            throw ValidationError([
                .init(
                    pointer: "/role",
                    detail: "admin keys belong to the platform operator (\"Sightline platform operator\"), not to \(organisation.name); "
                        + "a partner_admin manages its own organisation")
            ])
        }
    }

    /// Whose keys a listing shows `caller`: the organisation asked for (if the caller may see it), else the
    /// caller's own, or every organisation's (`nil`) for an admin who asked for none.
    public static func listScope(requested organisationID: UUID?, caller: Principal) throws(Forbidden) -> UUID? {
        guard let organisationID else { return caller.role == .admin ? nil : caller.organisationID }
        guard canSee(keyOf: organisationID, caller: caller) else {
            throw Forbidden("A partner admin sees only its own organisation's keys.")
        }
        return organisationID
    }

    /// Whether `caller` may see (and so revoke) a key of `organisationID`. Others must not learn it exists.
    public static func canSee(keyOf organisationID: UUID, caller: Principal) -> Bool {
        caller.role == .admin || (caller.role == .partnerAdmin && caller.organisationID == organisationID)
    }
}

/// The caller may know the object exists but may not do this to it (HTTP 403).
public struct Forbidden: Error, Sendable, Hashable {
    /// Why, in a sentence for the client.
    public let reason: String

    /// A refusal saying `reason`.
    public init(_ reason: String) { self.reason = reason }
}

/// Who may read which rows of the audit log.
public enum AuditRules {
    /// The organisation whose rows `caller` reads, or `nil` for every row (an admin).
    public static func scope(for caller: Principal) -> UUID? {
        caller.role == .admin ? nil : caller.organisationID
    }
}
