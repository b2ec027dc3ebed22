import Foundation

/// Neither confirm nor deny: who may know that a covert camera exists.
///
/// A covert camera is, for everyone else, indistinguishable from one that does not exist: absent from lists,
/// searches, counts, exports and events, and 404 with the body a random id gets. Every store and handler that
/// touches cameras asks this one function.
public enum CovertRules {
    /// Whether `caller` may know that a camera owned by `ownerOrganisationID` exists.
    ///
    /// Public cameras are visible to every key. A covert one only to a key with covert access that belongs to the
    /// owning organisation or to a police force.
    public static func mayKnowOf(covert: Bool, ownerOrganisationID: UUID, caller: Principal) -> Bool {
        guard covert else { return true }
        return caller.covertAccess && (caller.organisationID == ownerOrganisationID || caller.organisationKind == .police)
    }
}
