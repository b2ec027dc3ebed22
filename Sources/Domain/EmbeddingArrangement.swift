import Foundation

/// How police work with a control room.
public enum EmbeddingModel: String, Sendable, Hashable, CaseIterable, Codable {
    /// Police staff work in the room.
    case embedded
    /// Officers attend to collect footage.
    case visiting
    /// Police view the room's cameras remotely.
    case remoteLink = "remote_link"
}

/// Everything about an embedding arrangement that its parties set: what a create carries and a PATCH changes.
/// The room and the force are fixed when it is made.
public struct EmbeddingDraft: Sendable, Hashable, Codable {
    public var model: EmbeddingModel
    public var staffCount: Int?
    public var hoursPerWeek: Double?
    public var startsOn: Day
    public var endsOn: Day?
    /// The information-sharing agreement it rests on.
    public var agreementRef: String?
    public var reviewDueOn: Day?

    /// The fields a PATCH may name.
    public static let patchableFields: Set<String> = Set(CodingKeys.allCases.map(\.rawValue))

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model
        case staffCount = "staff_count"
        case hoursPerWeek = "hours_per_week"
        case startsOn = "starts_on"
        case endsOn = "ends_on"
        case agreementRef = "agreement_ref"
        case reviewDueOn = "review_due_on"
    }

    /// A draft from its parts.
    public init(
        model: EmbeddingModel, staffCount: Int? = nil, hoursPerWeek: Double? = nil, startsOn: Day, endsOn: Day? = nil,
        agreementRef: String? = nil, reviewDueOn: Day? = nil
    ) {
        self.model = model
        self.staffCount = staffCount
        self.hoursPerWeek = hoursPerWeek
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.agreementRef = agreementRef
        self.reviewDueOn = reviewDueOn
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            model: try c.decode(EmbeddingModel.self, forKey: .model),
            staffCount: try c.decodeIfPresent(Int.self, forKey: .staffCount),
            hoursPerWeek: try c.decodeIfPresent(Double.self, forKey: .hoursPerWeek),
            startsOn: try c.decode(Day.self, forKey: .startsOn),
            endsOn: try c.decodeIfPresent(Day.self, forKey: .endsOn),
            agreementRef: try c.decodeIfPresent(String.self, forKey: .agreementRef),
            reviewDueOn: try c.decodeIfPresent(Day.self, forKey: .reviewDueOn)
        )
    }

    /// Every rule an arrangement's fields must keep, each broken one listed with its field.
    public func validate() throws(ValidationError) {
        var problems: [FieldProblem] = []
        if let staffCount, !(0...1000).contains(staffCount) { problems.append(.init(pointer: "/staff_count", detail: "must be from 0 to 1000")) }
        if let hoursPerWeek, !(hoursPerWeek >= 0 && hoursPerWeek <= 168) {
            problems.append(.init(pointer: "/hours_per_week", detail: "must be from 0 to 168 hours"))
        }
        if let endsOn, endsOn < startsOn { problems.append(.init(pointer: "/ends_on", detail: "must not be before starts_on")) }
        if let reviewDueOn, reviewDueOn < startsOn { problems.append(.init(pointer: "/review_due_on", detail: "must not be before starts_on")) }
        if let problem = TextRules.problem(agreementRef, at: "/agreement_ref", maximum: 200) { problems.append(problem) }
        guard problems.isEmpty else { throw ValidationError(problems) }
    }

    /// The draft ending on `day`; an arrangement that ended before `today` cannot end again.
    public func ended(on day: Day, today: Day) throws(StateConflict) -> EmbeddingDraft {
        if let endsOn, endsOn < today { throw StateConflict("The arrangement ended on \(endsOn).") }
        var draft = self
        draft.endsOn = day
        return draft
    }

    /// Whether the arrangement is in force on `day`.
    public func isActive(on day: Day) -> Bool { startsOn <= day && (endsOn.map { day <= $0 } ?? true) }
}

/// An embedding arrangement as stored.
public struct EmbeddingArrangement: Sendable, Hashable, Identifiable {
    public var id: UUID
    /// The room.
    public var controlRoomID: UUID
    /// The force working with it.
    public var policeOrganisationID: UUID
    public var draft: EmbeddingDraft
    public var createdAt: Date
    public var updatedAt: Date
    /// Bumped by every change; the ETag.
    public var version: Int

    /// An arrangement from its parts.
    public init(
        id: UUID, controlRoomID: UUID, policeOrganisationID: UUID, draft: EmbeddingDraft, createdAt: Date, updatedAt: Date, version: Int
    ) {
        self.id = id
        self.controlRoomID = controlRoomID
        self.policeOrganisationID = policeOrganisationID
        self.draft = draft
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

/// Which arrangements a list covers.
public struct EmbeddingFilter: Sendable, Hashable {
    public var controlRoomID: UUID?
    public var policeOrganisationID: UUID?
    /// Only those in force on this day.
    public var activeOn: Day?
    public var model: EmbeddingModel?

    /// A filter; every condition given must hold.
    public init(controlRoomID: UUID? = nil, policeOrganisationID: UUID? = nil, activeOn: Day? = nil, model: EmbeddingModel? = nil) {
        self.controlRoomID = controlRoomID
        self.policeOrganisationID = policeOrganisationID
        self.activeOn = activeOn
        self.model = model
    }
}

extension RegistryRules {
    /// Checks that `caller` may make or change an arrangement between a room run by `roomOperator` and
    /// `police`: either party's operators and partner admins, or an admin.
    public static func checkArrangementWrite(roomOperator: UUID, police: UUID, by caller: Principal) throws(Forbidden) {
        if caller.role == .admin { return }
        guard [.operator, .partnerAdmin].contains(caller.role) else {
            throw Forbidden("A key with the role \(caller.role.rawValue) does not change embedding arrangements.")
        }
        guard caller.organisationID == roomOperator || caller.organisationID == police else {
            throw Forbidden("Only the room's operator, the force or an admin change an embedding arrangement.")
        }
    }
}
