import Foundation

/// Whose report it is (DESIGN §4.4): a holder's (boroughs, transport, businesses: the tasks they received), a
/// police force's (the requests it made), or the pan-London one that planners and analysts read.
public enum ReportKind: String, Sendable, Hashable, CaseIterable, Codable {
    case holder, police, london

    /// The kind of report an organisation of `kind` gets each night; `nil` for MOPAC, whose report is the
    /// pan-London one, and for the platform operator, which holds and asks for nothing.
    public static func forOrganisation(_ kind: OrganisationKind) -> ReportKind? {
        switch kind {
        case .police: .police
        case .mopac, .platform: nil
        case .borough, .transport, .business, .other: .holder
        }
    }
}

/// One night's report: the JSON document `GET /v1/reports/{id}` returns and the CSV and HTML are rendered from.
///
/// Every figure is of the London calendar day `reportDate` (from `periodStart` to `periodEnd`, 23 or 25 hours on
/// the nights the clocks change) unless its name says otherwise; times are in minutes. Covert cameras and the
/// tasks for them are never counted: a report is read by keys without covert access.
public struct Report: Sendable, Hashable, Codable {
    public var id: UUID
    public var kind: ReportKind
    public var reportDate: Day
    /// The organisation it is for; `nil` for the pan-London report.
    public var organisation: ReportOrganisation?
    public var timeZone: String
    public var periodStart: Date
    public var periodEnd: Date
    public var generatedAt: Date
    /// Whether anything happened that the report counts; a quiet day still has its report, which says so.
    public var activity: Bool
    public var holder: HolderReport?
    public var police: PoliceReport?
    public var london: LondonReport?

    public init(
        id: UUID, kind: ReportKind, reportDate: Day, organisation: ReportOrganisation?, timeZone: String, periodStart: Date, periodEnd: Date,
        generatedAt: Date, activity: Bool, holder: HolderReport? = nil, police: PoliceReport? = nil, london: LondonReport? = nil
    ) {
        self.id = id
        self.kind = kind
        self.reportDate = reportDate
        self.organisation = organisation
        self.timeZone = timeZone
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.generatedAt = generatedAt
        self.activity = activity
        self.holder = holder
        self.police = police
        self.london = london
    }
}

public struct ReportOrganisation: Sendable, Hashable, Codable {
    public var id: UUID
    public var name: String
    public var kind: OrganisationKind
    public var gssCode: String?

    public init(id: UUID, name: String, kind: OrganisationKind, gssCode: String?) {
        self.id = id
        self.name = name
        self.kind = kind
        self.gssCode = gssCode
    }
}

/// What became of the tasks of a day: how many arrived and how many reached each state that day.
public struct TaskCounts: Sendable, Hashable, Codable {
    public var received = 0
    public var acknowledged = 0
    public var exported = 0
    public var collected = 0
    public var noFootage = 0
    public var rejected = 0
    public var cancelled = 0

    public init() {}

    public var isEmpty: Bool { self == TaskCounts() }

    /// The two counts added, state by state.
    public static func + (lhs: TaskCounts, rhs: TaskCounts) -> TaskCounts {
        var sum = lhs
        sum.received += rhs.received
        sum.acknowledged += rhs.acknowledged
        sum.exported += rhs.exported
        sum.collected += rhs.collected
        sum.noFootage += rhs.noFootage
        sum.rejected += rhs.rejected
        sum.cancelled += rhs.cancelled
        return sum
    }
}

/// How fast one step (acknowledging or exporting) was taken for the tasks that took it that day, of one priority,
/// against each task's own deadline.
public struct Turnaround: Sendable, Hashable, Codable {
    public enum Step: String, Sendable, Hashable, Codable, CaseIterable { case acknowledge, export }

    public var step: Step
    public var priority: EvidencePriority
    /// The deadline the settings give this step at this priority, in minutes.
    public var targetMinutes: Int
    public var count: Int
    public var withinTarget: Int
    public var medianMinutes: Double?
    public var p90Minutes: Double?

    public init(
        step: Step, priority: EvidencePriority, targetMinutes: Int, count: Int, withinTarget: Int, medianMinutes: Double?, p90Minutes: Double?
    ) {
        self.step = step
        self.priority = priority
        self.targetMinutes = targetMinutes
        self.count = count
        self.withinTarget = withinTarget
        self.medianMinutes = medianMinutes
        self.p90Minutes = p90Minutes
    }
}

/// Deadlines that passed unmet that day, and tasks escalated (unmet for a day or more) at its end.
public struct Breaches: Sendable, Hashable, Codable {
    public var acknowledge = 0
    public var export = 0
    public var escalatedAtEnd = 0

    public init() {}
}

/// Footage lost to overwrite: cameras already overwritten when a request of the day found them, and tasked cameras
/// whose footage was overwritten that day before it was exported.
public struct LostFootage: Sendable, Hashable, Codable {
    public var alreadyOverwritten = 0
    public var overwrittenBeforeExport = 0

    public init() {}
}

/// Cameras of one kind by status, as the report was built.
public struct CameraStatusCount: Sendable, Hashable, Codable {
    public var kind: CameraKind
    public var operational = 0
    public var faulty = 0
    public var planned = 0
    public var decommissioned = 0

    public init(kind: CameraKind) { self.kind = kind }
}

public struct ReportRoom: Sendable, Hashable, Codable {
    public var id: UUID
    public var name: String
    public var status: String
    public var boroughsServed: [String]
    public var operatorPositions: Int?
    public var camerasInService: Int
    /// Whether police staff were embedded in it that day.
    public var embedded: Bool

    public init(id: UUID, name: String, status: String, boroughsServed: [String], operatorPositions: Int?, camerasInService: Int, embedded: Bool) {
        self.id = id
        self.name = name
        self.status = status
        self.boroughsServed = boroughsServed
        self.operatorPositions = operatorPositions
        self.camerasInService = camerasInService
        self.embedded = embedded
    }
}

public struct ReportArrangement: Sendable, Hashable, Codable {
    public var room: String
    public var policeOrganisation: String
    public var model: String
    public var staffCount: Int?
    public var hoursPerWeek: Double?
    public var reviewDueOn: Day?

    public init(room: String, policeOrganisation: String, model: String, staffCount: Int?, hoursPerWeek: Double?, reviewDueOn: Day?) {
        self.room = room
        self.policeOrganisation = policeOrganisation
        self.model = model
        self.staffCount = staffCount
        self.hoursPerWeek = hoursPerWeek
        self.reviewDueOn = reviewDueOn
    }
}

/// One day of the 30 days up to the report's.
public struct TrendDay: Sendable, Hashable, Codable {
    public var date: Day
    public var received: Int
    public var acknowledged: Int
    public var acknowledgedWithinTarget: Int
    public var exported: Int
    public var medianAcknowledgeMinutes: Double?

    public init(date: Day, received: Int, acknowledged: Int, acknowledgedWithinTarget: Int, exported: Int, medianAcknowledgeMinutes: Double?) {
        self.date = date
        self.received = received
        self.acknowledged = acknowledged
        self.acknowledgedWithinTarget = acknowledgedWithinTarget
        self.exported = exported
        self.medianAcknowledgeMinutes = medianAcknowledgeMinutes
    }
}

/// A holder's night: the tasks it received and worked.
public struct HolderReport: Sendable, Hashable, Codable {
    public var tasks: TaskCounts
    public var turnaround: [Turnaround]
    /// The median time to acknowledge of every task acknowledged that day, whatever its priority.
    public var medianAcknowledgeMinutes: Double?
    public var breaches: Breaches
    /// Tasks still unacknowledged at the day's end whose footage is overwritten within the next 24 hours.
    public var atRiskAtEnd: Int
    public var lostFootage: LostFootage
    public var cameras: [CameraStatusCount]
    public var rooms: [ReportRoom]
    public var arrangements: [ReportArrangement]
    public var trend: [TrendDay]

    public init(
        tasks: TaskCounts, turnaround: [Turnaround], medianAcknowledgeMinutes: Double?, breaches: Breaches, atRiskAtEnd: Int,
        lostFootage: LostFootage,
        cameras: [CameraStatusCount],
        rooms: [ReportRoom], arrangements: [ReportArrangement], trend: [TrendDay]
    ) {
        self.tasks = tasks
        self.turnaround = turnaround
        self.medianAcknowledgeMinutes = medianAcknowledgeMinutes
        self.breaches = breaches
        self.atRiskAtEnd = atRiskAtEnd
        self.lostFootage = lostFootage
        self.cameras = cameras
        self.rooms = rooms
        self.arrangements = arrangements
        self.trend = trend
    }
}

/// One holder as the requesting force saw it that day (or, in the league table, as London did).
public struct HolderLine: Sendable, Hashable, Codable {
    public var organisationId: UUID
    public var name: String
    public var gssCode: String?
    public var tasks: TaskCounts
    public var acknowledgedWithinTarget: Int
    public var exportedWithinTarget: Int
    public var medianAcknowledgeMinutes: Double?
    public var p90AcknowledgeMinutes: Double?
    public var medianExportMinutes: Double?
    public var breaches: Int
    public var lostCameras: Int

    public init(
        organisationId: UUID, name: String, gssCode: String?, tasks: TaskCounts, acknowledgedWithinTarget: Int, exportedWithinTarget: Int,
        medianAcknowledgeMinutes: Double?, p90AcknowledgeMinutes: Double?, medianExportMinutes: Double?, breaches: Int, lostCameras: Int
    ) {
        self.organisationId = organisationId
        self.name = name
        self.gssCode = gssCode
        self.tasks = tasks
        self.acknowledgedWithinTarget = acknowledgedWithinTarget
        self.exportedWithinTarget = exportedWithinTarget
        self.medianAcknowledgeMinutes = medianAcknowledgeMinutes
        self.p90AcknowledgeMinutes = p90AcknowledgeMinutes
        self.medianExportMinutes = medianExportMinutes
        self.breaches = breaches
        self.lostCameras = lostCameras
    }
}

public struct RequestCounts: Sendable, Hashable, Codable {
    public var made = 0
    public var urgent = 0
    public var standard = 0
    /// Requests that found no camera at all, and those whose every camera had already been overwritten.
    public var noCameraFound = 0
    public var allOverwritten = 0

    public init() {}
}

public struct BoroughCount: Sendable, Hashable, Codable {
    public var gssCode: String
    public var name: String
    public var requests: Int

    public init(gssCode: String, name: String, requests: Int) {
        self.gssCode = gssCode
        self.name = name
        self.requests = requests
    }
}

public struct NoCameraRequest: Sendable, Hashable, Codable {
    public var reference: String
    public var reason: String
    public var gssCode: String?

    public init(reference: String, reason: String, gssCode: String?) {
        self.reference = reference
        self.reason = reason
        self.gssCode = gssCode
    }
}

/// A police force's night: the requests it made and how each holder answered.
public struct PoliceReport: Sendable, Hashable, Codable {
    public var requests: RequestCounts
    /// Its requests of the day by the borough the incident lay in.
    public var requestsByBorough: [BoroughCount]
    /// Each holder's work that day on the force's tasks, whenever they were asked.
    public var holders: [HolderLine]
    public var itemsCollected: Int
    /// Preservation holds on its tasks that end within 48 hours of the day's end.
    public var holdsExpiring: Int
    public var noCameraRequests: [NoCameraRequest]
    public var trend: [TrendDay]

    public init(
        requests: RequestCounts, requestsByBorough: [BoroughCount], holders: [HolderLine], itemsCollected: Int, holdsExpiring: Int,
        noCameraRequests: [NoCameraRequest], trend: [TrendDay]
    ) {
        self.requests = requests
        self.requestsByBorough = requestsByBorough
        self.holders = holders
        self.itemsCollected = itemsCollected
        self.holdsExpiring = holdsExpiring
        self.noCameraRequests = noCameraRequests
        self.trend = trend
    }
}

/// Rooms with police staff embedded that day against the others.
public struct EmbeddingComparison: Sendable, Hashable, Codable {
    public var embedded: Bool
    public var rooms: Int
    public var tasks: TaskCounts
    public var acknowledgedWithinTarget: Int
    public var medianAcknowledgeMinutes: Double?
    public var medianExportMinutes: Double?

    public init(
        embedded: Bool, rooms: Int, tasks: TaskCounts, acknowledgedWithinTarget: Int, medianAcknowledgeMinutes: Double?, medianExportMinutes: Double?
    ) {
        self.embedded = embedded
        self.rooms = rooms
        self.tasks = tasks
        self.acknowledgedWithinTarget = acknowledgedWithinTarget
        self.medianAcknowledgeMinutes = medianAcknowledgeMinutes
        self.medianExportMinutes = medianExportMinutes
    }
}

public struct ReportProposal: Sendable, Hashable, Codable {
    public var id: UUID
    public var title: String
    public var status: String
    public var decisionReference: String?
    public var milestones: Int
    public var milestonesCompleted: Int
    public var milestonesOverdue: Int
    public var nextMilestone: String?
    public var nextDueOn: Day?

    public init(
        id: UUID, title: String, status: String, decisionReference: String?, milestones: Int, milestonesCompleted: Int, milestonesOverdue: Int,
        nextMilestone: String?, nextDueOn: Day?
    ) {
        self.id = id
        self.title = title
        self.status = status
        self.decisionReference = decisionReference
        self.milestones = milestones
        self.milestonesCompleted = milestonesCompleted
        self.milestonesOverdue = milestonesOverdue
        self.nextMilestone = nextMilestone
        self.nextDueOn = nextDueOn
    }
}

/// London's night: every holder side by side, embedded rooms against the rest, the totals and their trend, and the
/// shared-room proposals.
public struct LondonReport: Sendable, Hashable, Codable {
    public var requests: RequestCounts
    public var tasks: TaskCounts
    public var turnaround: [Turnaround]
    public var breaches: Breaches
    public var lostFootage: LostFootage
    /// Every borough, worked or not, and every other holder that worked a task that day.
    public var league: [HolderLine]
    public var embedding: [EmbeddingComparison]
    public var trend: [TrendDay]
    public var proposals: [ReportProposal]
    /// Every active room's value for money over the year to the report's day (absent from reports built before it).
    public var valueForMoney: ReportValueForMoney?

    public init(
        requests: RequestCounts, tasks: TaskCounts, turnaround: [Turnaround], breaches: Breaches, lostFootage: LostFootage, league: [HolderLine],
        embedding: [EmbeddingComparison], trend: [TrendDay], proposals: [ReportProposal], valueForMoney: ReportValueForMoney?
    ) {
        self.valueForMoney = valueForMoney
        self.requests = requests
        self.tasks = tasks
        self.turnaround = turnaround
        self.breaches = breaches
        self.lostFootage = lostFootage
        self.league = league
        self.embedding = embedding
        self.trend = trend
        self.proposals = proposals
    }
}

extension Report {
    /// The encoder of the stored and served JSON document: snake_case keys, dates as `YYYY-MM-DD`, times RFC 3339.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.rfc3339)
        }
        return encoder
    }

    /// The decoder of the stored JSON document.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 time"))
            }
            return date
        }
        return decoder
    }
}

/// Who may read which reports (DESIGN §6): an organisation its own, and the pan-London ones when `panLondon`.
public struct ReportReader: Sendable, Hashable {
    /// The organisation whose reports it reads; `nil` for a platform admin, who reads every report.
    public var organisationID: UUID?
    public var panLondon: Bool

    public init(organisationID: UUID?, panLondon: Bool) {
        self.organisationID = organisationID
        self.panLondon = panLondon
    }

    /// What `principal` reads: the platform admin every report; planners, analysts and MOPAC's keys also the
    /// pan-London ones; every other key its own organisation's.
    public init(_ principal: Principal) {
        organisationID = principal.role == .admin ? nil : principal.organisationID
        panLondon = principal.role == .admin || principal.role == .planner || principal.role == .analyst || principal.organisationKind == .mopac
    }
}

/// London's boroughs drawn for a report's map: each outline an SVG path in a frame `width` by `height` (x east,
/// y south), from the boundaries the migrations install.
public struct BoroughOutlines: Sendable, Hashable {
    public struct Borough: Sendable, Hashable {
        public var gssCode: String
        public var name: String
        public var path: String

        public init(gssCode: String, name: String, path: String) {
            self.gssCode = gssCode
            self.name = name
            self.path = path
        }
    }

    public var width: Int
    public var height: Int
    public var boroughs: [Borough]

    public init(width: Int, height: Int, boroughs: [Borough]) {
        self.width = width
        self.height = height
        self.boroughs = boroughs
    }
}

extension Double {
    /// To one decimal place, halves away from zero: how reports and analytics give minutes.
    public var roundedToTenth: Double { (self * 10).rounded() / 10 }
}
