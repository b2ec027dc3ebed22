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

extension EvidenceRequestDetail {
    /// The detail without the covert tasks, cameras and exclusions `visibility` hides: a covert task only for
    /// keys that may know of its holder's covert cameras, a covert exclusion only for keys with covert access.
    public func visible(to visibility: CovertVisibility) -> Self {
        var detail = self
        detail.tasks = tasks.filter { !$0.covert || visibility.includes(covertOwnedBy: $0.holder.organisationID) }.map {
            $0.visible(to: visibility)
        }
        detail.exclusions = exclusions.filter { !$0.covert || visibility != .none }
        return detail
    }
}

extension EvidenceTask {
    /// The task without the covert cameras `visibility` hides.
    public func visible(to visibility: CovertVisibility) -> Self {
        var task = self
        task.cameras = cameras.filter { !$0.covert || visibility.includes(covertOwnedBy: holder.organisationID) }
        return task
    }
}
