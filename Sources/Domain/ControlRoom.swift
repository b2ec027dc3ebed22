import Foundation

/// Whether a control room still runs.
public enum ControlRoomStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case active, merged, closed
}

/// Everything about a control room that its operator sets: what a create carries and a PATCH changes.
public struct ControlRoomDraft: Sendable, Hashable, Codable {
    public var name: String
    public var location: Location?
    public var address: String?
    /// The GSS codes of the boroughs the room serves; a shared room serves several.
    public var boroughsServed: [String]
    /// `24x7`, or opening hours as text.
    public var hours: String
    public var operatorPositions: Int?
    public var vmsPlatform: String?
    public var exportFormats: [String]
    public var defaultRetentionDays: Int
    public var annualCostPence: Int?
    /// Staff in full-time equivalents, for appraisals.
    public var staffFTE: Double?
    /// The day someone last checked the room's cost figures (running cost, positions, staff).
    public var costsReviewedOn: Day?
    public var status: ControlRoomStatus

    /// The fields a PATCH may name.
    public static let patchableFields: Set<String> = Set(CodingKeys.allCases.map(\.rawValue))

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, location, address
        case boroughsServed = "boroughs_served"
        case hours
        case operatorPositions = "operator_positions"
        case vmsPlatform = "vms_platform"
        case exportFormats = "export_formats"
        case defaultRetentionDays = "default_retention_days"
        case annualCostPence = "annual_cost_pence"
        case staffFTE = "staff_fte"
        case costsReviewedOn = "costs_reviewed_on"
        case status
    }

    /// A draft from its parts.
    public init(
        name: String, location: Location? = nil, address: String? = nil, boroughsServed: [String], hours: String = "24x7",
        operatorPositions: Int? = nil, vmsPlatform: String? = nil, exportFormats: [String] = [], defaultRetentionDays: Int = 31,
        annualCostPence: Int? = nil, staffFTE: Double? = nil, costsReviewedOn: Day? = nil, status: ControlRoomStatus = .active
    ) {
        self.name = name
        self.location = location
        self.address = address
        self.boroughsServed = boroughsServed
        self.hours = hours
        self.operatorPositions = operatorPositions
        self.vmsPlatform = vmsPlatform
        self.exportFormats = exportFormats
        self.defaultRetentionDays = defaultRetentionDays
        self.annualCostPence = annualCostPence
        self.staffFTE = staffFTE
        self.costsReviewedOn = costsReviewedOn
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name),
            location: try c.decodeIfPresent(Location.self, forKey: .location),
            address: try c.decodeIfPresent(String.self, forKey: .address),
            boroughsServed: try c.decode([String].self, forKey: .boroughsServed),
            hours: try c.decodeIfPresent(String.self, forKey: .hours) ?? "24x7",
            operatorPositions: try c.decodeIfPresent(Int.self, forKey: .operatorPositions),
            vmsPlatform: try c.decodeIfPresent(String.self, forKey: .vmsPlatform),
            exportFormats: try c.decodeIfPresent([String].self, forKey: .exportFormats) ?? [],
            defaultRetentionDays: try c.decodeIfPresent(Int.self, forKey: .defaultRetentionDays) ?? 31,
            annualCostPence: try c.decodeIfPresent(Int.self, forKey: .annualCostPence),
            staffFTE: try c.decodeIfPresent(Double.self, forKey: .staffFTE),
            costsReviewedOn: try c.decodeIfPresent(Day.self, forKey: .costsReviewedOn),
            status: try c.decodeIfPresent(ControlRoomStatus.self, forKey: .status) ?? .active
        )
    }

    /// Every rule a room's fields must keep, each broken one listed with its field.
    public func validate() throws(ValidationError) {
        var problems: [FieldProblem] = []
        if let problem = TextRules.problem(name, at: "/name", maximum: 200, required: true) { problems.append(problem) }
        problems += location?.problems(at: "/location") ?? []
        if let problem = TextRules.problem(address, at: "/address", maximum: 500) { problems.append(problem) }
        if boroughsServed.isEmpty { problems.append(.init(pointer: "/boroughs_served", detail: "must list at least one borough")) }
        for (index, code) in boroughsServed.enumerated() where GSSCode(code) == nil {
            problems.append(.init(pointer: "/boroughs_served/\(index)", detail: "must be the GSS code of a London borough, E09000001 to E09000033"))
        }
        if Set(boroughsServed).count != boroughsServed.count {
            problems.append(.init(pointer: "/boroughs_served", detail: "must not list a borough twice"))
        }
        if let problem = TextRules.problem(hours, at: "/hours", maximum: 200, required: true) { problems.append(problem) }
        if let operatorPositions, !(0...1000).contains(operatorPositions) {
            problems.append(.init(pointer: "/operator_positions", detail: "must be from 0 to 1000"))
        }
        if let problem = TextRules.problem(vmsPlatform, at: "/vms_platform", maximum: 200) { problems.append(problem) }
        if exportFormats.count > 20 { problems.append(.init(pointer: "/export_formats", detail: "must list at most 20 formats")) }
        for (index, format) in exportFormats.enumerated() {
            if let problem = TextRules.problem(format, at: "/export_formats/\(index)", maximum: 50) { problems.append(problem) }
        }
        if !(1...3650).contains(defaultRetentionDays) {
            problems.append(.init(pointer: "/default_retention_days", detail: "must be from 1 to 3650 days"))
        }
        if let annualCostPence, let problem = Money.problem(annualCostPence, at: "/annual_cost_pence") { problems.append(problem) }
        if let staffFTE, !(staffFTE.isFinite && (0...10_000).contains(staffFTE)) {
            problems.append(.init(pointer: "/staff_fte", detail: "must be from 0 to 10000"))
        }
        guard problems.isEmpty else { throw ValidationError(problems) }
    }
}

/// A control room as stored.
public struct ControlRoom: Sendable, Hashable, Identifiable {
    public var id: UUID
    /// The organisation that runs it.
    public var operatorOrganisationID: UUID
    public var draft: ControlRoomDraft
    public var createdAt: Date
    public var updatedAt: Date
    /// The room that absorbed this one, once a proposal merged them.
    public var mergedInto: UUID?
    /// Bumped by every change; the ETag.
    public var version: Int

    /// A room from its parts.
    public init(
        id: UUID, operatorOrganisationID: UUID, draft: ControlRoomDraft, mergedInto: UUID? = nil, createdAt: Date, updatedAt: Date, version: Int
    ) {
        self.id = id
        self.operatorOrganisationID = operatorOrganisationID
        self.draft = draft
        self.mergedInto = mergedInto
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

/// Which rooms a list covers.
public struct ControlRoomFilter: Sendable, Hashable {
    public var operatorOrganisationID: UUID?
    public var boroughServed: GSSCode?
    public var status: ControlRoomStatus?

    /// A filter; every condition given must hold.
    public init(operatorOrganisationID: UUID? = nil, boroughServed: GSSCode? = nil, status: ControlRoomStatus? = nil) {
        self.operatorOrganisationID = operatorOrganisationID
        self.boroughServed = boroughServed
        self.status = status
    }
}
