import Foundation

/// Who may change which part of the registry, and which covert cameras a caller may know of.
///
/// Non-covert registry data is visible to every key (a shared registry is the point); changes are for the
/// owning or operating organisation's operators and partner admins, and for admins.
public enum RegistryRules {
    /// Checks that `caller` may change (or create) a room, camera or arrangement of `organisationID`.
    public static func checkWrite(to organisationID: UUID, by caller: Principal) throws(Forbidden) {
        switch caller.role {
        case .admin:
            return
        case .operator, .partnerAdmin:
            guard caller.organisationID == organisationID else {
                throw Forbidden("Operators and partner admins change only their own organisation's registry entries.")
            }
        default:
            throw Forbidden("A key with the role \(caller.role.rawValue) does not change the registry.")
        }
    }

    /// The organisation a new entry belongs to: the one asked for, or the caller's own.
    public static func owner(requested: UUID?, caller: Principal) throws(Forbidden) -> UUID {
        let owner = requested ?? caller.organisationID
        try checkWrite(to: owner, by: caller)
        return owner
    }

    /// Checks that `caller` may register or keep a camera as covert: only a key that may know of it afterwards.
    public static func checkCovert(ownerOrganisationID: UUID, by caller: Principal) throws(Forbidden) {
        guard CovertRules.mayKnowOf(covert: true, ownerOrganisationID: ownerOrganisationID, caller: caller) else {
            throw Forbidden("Only a key with covert access records covert cameras.")
        }
    }
}

/// Which covert cameras a caller's queries include, as the stores apply it in SQL.
public enum CovertVisibility: Sendable, Hashable {
    /// None: covert cameras do not exist for this caller.
    case none
    /// Those owned by this organisation.
    case ownedBy(UUID)
    /// All of them (a police key with covert access).
    case all

    /// The visibility `CovertRules.mayKnowOf` gives `caller`, for every camera at once.
    public init(for caller: Principal) {
        if !caller.covertAccess {
            self = .none
        } else if caller.organisationKind == .police {
            self = .all
        } else {
            self = .ownedBy(caller.organisationID)
        }
    }

    /// Whether a covert camera of `ownerOrganisationID` is visible; agrees with `CovertRules.mayKnowOf`.
    public func includes(covertOwnedBy ownerOrganisationID: UUID) -> Bool {
        switch self {
        case .none: false
        case .ownedBy(let organisation): organisation == ownerOrganisationID
        case .all: true
        }
    }
}
