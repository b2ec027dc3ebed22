import Foundation

/// What sort of camera it is.
public enum CameraKind: String, Sendable, Hashable, CaseIterable, Codable {
    case fixed, ptz, anpr, redeployable, doorbell, other
    case multiSensor = "multi_sensor"
    case bodyWorn = "body_worn"
}

/// The best DORI level a camera achieves (IEC 62676-4): how many pixels per metre of the scene it resolves.
public enum DORI: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    case identify, recognise, observe, detect, monitor

    /// The pixel density the level needs, in pixels per metre.
    public var pixelsPerMetre: Double {
        switch self {
        case .identify: 250
        case .recognise: 125
        case .observe: 62.5
        case .detect: 25
        case .monitor: 12.5
        }
    }

    /// Ordered by capability: a camera that can `identify` can also `recognise`, and so on.
    public static func < (lhs: DORI, rhs: DORI) -> Bool { lhs.pixelsPerMetre < rhs.pixelsPerMetre }
}

/// Where a camera is in its life.
public enum CameraStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case operational, faulty, decommissioned, planned
}

/// Everything about a camera that its owner sets: what a create carries and what a PATCH changes.
///
/// Coded with the API's field names, so that a JSON merge patch (RFC 7396) applies to it directly.
public struct CameraDraft: Sendable, Hashable, Codable {
    public var controlRoomID: UUID?
    public var externalRef: String?
    public var kind: CameraKind
    public var location: Location
    public var boroughGSS: String?
    public var headingDeg: Double?
    public var fieldOfViewDeg: Double?
    public var maxDORI: DORI?
    public var retentionDays: Int?
    public var status: CameraStatus
    public var commissionedOn: Day?
    public var decommissionedOn: Day?
    public var lastReplacedOn: Day?
    public var condition: Int?
    public var publicSpace: Bool
    public var covert: Bool

    /// The fields a PATCH may name.
    public static let patchableFields: Set<String> = Set(CodingKeys.allCases.map(\.rawValue))

    enum CodingKeys: String, CodingKey, CaseIterable {
        case controlRoomID = "control_room_id"
        case externalRef = "external_ref"
        case kind, location
        case boroughGSS = "borough_gss"
        case headingDeg = "heading_deg"
        case fieldOfViewDeg = "field_of_view_deg"
        case maxDORI = "max_dori"
        case retentionDays = "retention_days"
        case status
        case commissionedOn = "commissioned_on"
        case decommissionedOn = "decommissioned_on"
        case lastReplacedOn = "last_replaced_on"
        case condition
        case publicSpace = "public_space"
        case covert
    }

    /// A draft from its parts.
    public init(
        controlRoomID: UUID? = nil, externalRef: String? = nil, kind: CameraKind, location: Location, boroughGSS: String? = nil,
        headingDeg: Double? = nil, fieldOfViewDeg: Double? = nil, maxDORI: DORI? = nil, retentionDays: Int? = nil,
        status: CameraStatus = .operational, commissionedOn: Day? = nil, decommissionedOn: Day? = nil, lastReplacedOn: Day? = nil,
        condition: Int? = nil, publicSpace: Bool = true, covert: Bool = false
    ) {
        self.controlRoomID = controlRoomID
        self.externalRef = externalRef
        self.kind = kind
        self.location = location
        self.boroughGSS = boroughGSS
        self.headingDeg = headingDeg
        self.fieldOfViewDeg = fieldOfViewDeg
        self.maxDORI = maxDORI
        self.retentionDays = retentionDays
        self.status = status
        self.commissionedOn = commissionedOn
        self.decommissionedOn = decommissionedOn
        self.lastReplacedOn = lastReplacedOn
        self.condition = condition
        self.publicSpace = publicSpace
        self.covert = covert
    }

    // Explicit so that absent and null optional fields decode alike and `null` clears a field in a patch.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            controlRoomID: try c.decodeIfPresent(UUID.self, forKey: .controlRoomID),
            externalRef: try c.decodeIfPresent(String.self, forKey: .externalRef),
            kind: try c.decode(CameraKind.self, forKey: .kind),
            location: try c.decode(Location.self, forKey: .location),
            boroughGSS: try c.decodeIfPresent(String.self, forKey: .boroughGSS),
            headingDeg: try c.decodeIfPresent(Double.self, forKey: .headingDeg),
            fieldOfViewDeg: try c.decodeIfPresent(Double.self, forKey: .fieldOfViewDeg),
            maxDORI: try c.decodeIfPresent(DORI.self, forKey: .maxDORI),
            retentionDays: try c.decodeIfPresent(Int.self, forKey: .retentionDays),
            status: try c.decodeIfPresent(CameraStatus.self, forKey: .status) ?? .operational,
            commissionedOn: try c.decodeIfPresent(Day.self, forKey: .commissionedOn),
            decommissionedOn: try c.decodeIfPresent(Day.self, forKey: .decommissionedOn),
            lastReplacedOn: try c.decodeIfPresent(Day.self, forKey: .lastReplacedOn),
            condition: try c.decodeIfPresent(Int.self, forKey: .condition),
            publicSpace: try c.decodeIfPresent(Bool.self, forKey: .publicSpace) ?? true,
            covert: try c.decodeIfPresent(Bool.self, forKey: .covert) ?? false
        )
    }

    /// The draft decommissioned on `day`; a camera is decommissioned once.
    public func decommissioned(on day: Day) throws(StateConflict) -> CameraDraft {
        guard status != .decommissioned else { throw StateConflict("The camera is already decommissioned.") }
        var draft = self
        draft.status = .decommissioned
        draft.decommissionedOn = day
        return draft
    }

    /// This draft, changed from `previous`, with its borough derived again if it moved without naming one.
    public func rederivingBorough(from previous: CameraDraft) -> CameraDraft {
        guard location != previous.location, boroughGSS == previous.boroughGSS else { return self }
        var draft = self
        draft.boroughGSS = nil
        return draft
    }

    /// Every rule a camera's fields must keep, each broken one listed with its field.
    public func validate() throws(ValidationError) {
        var problems = location.problems(at: "/location")
        if let boroughGSS, GSSCode(boroughGSS) == nil {
            problems.append(.init(pointer: "/borough_gss", detail: "must be the GSS code of a London borough, E09000001 to E09000033"))
        }
        if let problem = TextRules.problem(externalRef, at: "/external_ref", maximum: 100) { problems.append(problem) }
        if let headingDeg, !(headingDeg >= 0 && headingDeg < 360) {
            problems.append(.init(pointer: "/heading_deg", detail: "must be from 0 up to (not including) 360 degrees"))
        }
        if let fieldOfViewDeg, !(fieldOfViewDeg > 0 && fieldOfViewDeg <= 360) {
            problems.append(.init(pointer: "/field_of_view_deg", detail: "must be more than 0 and at most 360 degrees"))
        }
        if let retentionDays, !(1...3650).contains(retentionDays) {
            problems.append(.init(pointer: "/retention_days", detail: "must be from 1 to 3650 days"))
        }
        if let condition, !(1...5).contains(condition) { problems.append(.init(pointer: "/condition", detail: "must be from 1 (poor) to 5 (new)")) }
        if let commissionedOn, let decommissionedOn, decommissionedOn < commissionedOn {
            problems.append(.init(pointer: "/decommissioned_on", detail: "must not be before commissioned_on"))
        }
        if status == .decommissioned && decommissionedOn == nil {
            problems.append(.init(pointer: "/decommissioned_on", detail: "is required when status is decommissioned"))
        }
        if status != .decommissioned && decommissionedOn != nil {
            problems.append(.init(pointer: "/status", detail: "must be decommissioned when decommissioned_on is given"))
        }
        guard problems.isEmpty else { throw ValidationError(problems) }
    }
}

/// A camera as stored: its draft plus what the registry keeps about it.
public struct Camera: Sendable, Hashable, Identifiable {
    public var id: UUID
    /// The organisation that owns it.
    public var ownerOrganisationID: UUID
    public var draft: CameraDraft
    /// The borough its location falls in, when that differs from `borough_gss` as registered.
    public var boroughMismatch: Bool
    /// The retention that applies: its own, else its control room's default.
    public var effectiveRetentionDays: Int?
    public var createdAt: Date
    public var updatedAt: Date
    /// Bumped by every change; the ETag.
    public var version: Int
    /// Metres from the centre of a `near` search.
    public var distanceMetres: Double?

    /// A camera from its parts.
    public init(
        id: UUID, ownerOrganisationID: UUID, draft: CameraDraft, boroughMismatch: Bool, effectiveRetentionDays: Int?, createdAt: Date,
        updatedAt: Date, version: Int, distanceMetres: Double? = nil
    ) {
        self.id = id
        self.ownerOrganisationID = ownerOrganisationID
        self.draft = draft
        self.boroughMismatch = boroughMismatch
        self.effectiveRetentionDays = effectiveRetentionDays
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
        self.distanceMetres = distanceMetres
    }
}

/// Which cameras a list, search, count or export covers.
public struct CameraFilter: Sendable, Hashable {
    public var ownerOrganisationID: UUID?
    public var controlRoomID: UUID?
    public var boroughGSS: GSSCode?
    public var kind: CameraKind?
    public var status: CameraStatus?
    public var near: NearSearch?
    public var bbox: BoundingBox?

    /// A filter; every condition given must hold.
    public init(
        ownerOrganisationID: UUID? = nil, controlRoomID: UUID? = nil, boroughGSS: GSSCode? = nil, kind: CameraKind? = nil,
        status: CameraStatus? = nil, near: NearSearch? = nil, bbox: BoundingBox? = nil
    ) {
        self.ownerOrganisationID = ownerOrganisationID
        self.controlRoomID = controlRoomID
        self.boroughGSS = boroughGSS
        self.kind = kind
        self.status = status
        self.near = near
        self.bbox = bbox
    }
}

/// How camera counts are grouped.
public enum CameraGrouping: String, Sendable, Hashable, CaseIterable {
    case kind, borough
    case ownerKind = "owner_kind"
}

/// The dates a statistics request counts on.
public enum StatisticsDates {
    /// The most dates one request may ask for.
    public static let maximum = 10

    /// Parses `as_of`: one to ten comma-separated dates.
    public static func parse(_ text: String) throws(ValidationError) -> [Day] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let days = parts.compactMap(Day.init)
        guard !parts.isEmpty, days.count == parts.count, days.count <= maximum else {
            throw ValidationError([.init(parameter: "as_of", detail: "must be 1 to \(maximum) dates, YYYY-MM-DD, separated by commas")])
        }
        return days
    }
}
