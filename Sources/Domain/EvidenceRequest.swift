import Foundation

/// How fast a request's footage is needed.
public enum EvidencePriority: String, Sendable, Hashable, CaseIterable, Codable {
    case urgent, standard
}

/// A request's status, derived from its tasks (DESIGN §4.1 step 5).
public enum EvidenceRequestStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Some task is still pending or acknowledged.
    case open
    /// Every task is settled and at least one exported footage.
    case completed
    /// Every task is settled and none exported: nothing found, all rejected, no footage, or a mix.
    case noFootage = "no_footage"
    /// Every task was cancelled.
    case cancelled
}

/// Everything an investigator says about an incident when asking for footage.
public struct EvidenceRequestDraft: Sendable, Hashable {
    /// The legal basis when none is given: DPA 2018 Schedule 2 Part 1 paragraph 2 (crime and taxation).
    public static let defaultLegalBasis = "DPA 2018 Sch. 2 Pt. 1 para. 2"
    /// The search radius when none is given, in metres.
    public static let defaultRadius = 100
    /// The widest search, in metres.
    public static let maximumRadius = 1000
    /// The longest window a request may cover.
    public static let maximumWindow: TimeInterval = 24 * 60 * 60
    /// How many cameras a request may name explicitly.
    public static let maximumExplicitCameras = 100

    /// The police crime reference (CRIS, CONNECT, CAD…): free text, as those systems have no public format.
    public var crimeReference: String
    public var incidentReference: String?
    public var offence: String
    public var priority: EvidencePriority
    public var legalBasis: String
    /// The officer who signed the request off.
    public var authorisedBy: String
    /// Where the incident happened.
    public var location: Location
    public var radiusMetres: Int
    public var windowFrom: Date
    public var windowTo: Date
    /// The least a camera must be able to do to be asked.
    public var requiredDORI: DORI?
    /// Cameras asked for by id, in addition to those found near the location.
    public var cameraIDs: [UUID]
    public var notes: String?
    /// Who the holders call about it; required for an urgent request.
    public var contact: RequesterContact?

    /// A draft from its parts; `nil` legal basis and radius take the defaults.
    public init(
        crimeReference: String, incidentReference: String? = nil, offence: String, priority: EvidencePriority, legalBasis: String? = nil,
        authorisedBy: String, location: Location, radiusMetres: Int? = nil, windowFrom: Date, windowTo: Date, requiredDORI: DORI? = nil,
        cameraIDs: [UUID] = [], notes: String? = nil, contact: RequesterContact? = nil
    ) {
        self.crimeReference = crimeReference
        self.incidentReference = incidentReference
        self.offence = offence
        self.priority = priority
        self.legalBasis = legalBasis ?? Self.defaultLegalBasis
        self.authorisedBy = authorisedBy
        self.location = location
        self.radiusMetres = radiusMetres ?? Self.defaultRadius
        self.windowFrom = windowFrom
        self.windowTo = windowTo
        self.requiredDORI = requiredDORI
        self.cameraIDs = cameraIDs
        self.notes = notes
        self.contact = contact
    }

    /// Every rule a request must keep at `now`, each broken one listed with its field. The default legal basis
    /// is the police's (crime); any other requester (a council's enforcement or anti-social-behaviour team)
    /// must cite the power it asks under (`citedLegalBasis`).
    public func validate(now: Date, citedLegalBasis: Bool = true, requesterKind: OrganisationKind = .police) throws(ValidationError) {
        var problems: [FieldProblem] = []
        if requesterKind != .police && !citedLegalBasis {
            problems.append(
                .init(pointer: "/legal_basis", detail: "is required from an organisation other than a police force: cite the power you ask under"))
        }
        let texts: [(String?, String, Int, Bool)] = [
            (crimeReference, "/crime_reference", 100, true), (incidentReference, "/incident_reference", 100, false), (offence, "/offence", 200, true),
            (legalBasis, "/legal_basis", 500, true), (authorisedBy, "/authorised_by", 200, true),
        ]
        for (text, pointer, maximum, required) in texts {
            if let problem = TextRules.problem(text, at: pointer, maximum: maximum, required: required) { problems.append(problem) }
        }
        if let notes, notes.count > 4000 { problems.append(.init(pointer: "/notes", detail: "must be at most 4000 characters")) }
        if let contact {
            problems += contact.problems(at: "/requester_contact")
        } else if priority == .urgent {
            problems.append(.init(pointer: "/requester_contact", detail: "is required for an urgent request: holders must be able to reach someone"))
        }
        problems += location.problems(at: "/location")
        if !(1...Self.maximumRadius).contains(radiusMetres) {
            problems.append(.init(pointer: "/radius_m", detail: "must be from 1 to \(Self.maximumRadius) metres"))
        }
        if windowTo <= windowFrom {
            problems.append(.init(pointer: "/window_to", detail: "must be after window_from"))
        } else if windowTo.timeIntervalSince(windowFrom) > Self.maximumWindow {
            problems.append(.init(pointer: "/window_to", detail: "must be at most 24 hours after window_from"))
        }
        if windowTo > now { problems.append(.init(pointer: "/window_to", detail: "must not be in the future")) }
        if cameraIDs.count > Self.maximumExplicitCameras {
            problems.append(.init(pointer: "/camera_ids", detail: "may name at most \(Self.maximumExplicitCameras) cameras"))
        }
        for (index, id) in cameraIDs.enumerated() where cameraIDs[..<index].contains(id) {
            problems.append(.init(pointer: "/camera_ids/\(index)", detail: "repeats an earlier camera"))
        }
        guard problems.isEmpty else { throw ValidationError(problems) }
    }
}

/// The deadlines each priority sets a holder (DESIGN §4.1 step 3): how long to acknowledge and to export.
public struct EvidenceSLA: Sendable, Hashable {
    /// Time allowed to acknowledge, by priority.
    public var acknowledge: [EvidencePriority: Duration]
    /// Time allowed to export, by priority.
    public var export: [EvidencePriority: Duration]

    /// The defaults: urgent 1 h and 24 h, standard 24 h and 7 days.
    public static let standard = EvidenceSLA(
        acknowledge: [.urgent: .seconds(3600), .standard: .seconds(24 * 3600)],
        export: [.urgent: .seconds(24 * 3600), .standard: .seconds(7 * 24 * 3600)]
    )

    /// A table from its parts; a priority missing from either takes the default.
    public init(acknowledge: [EvidencePriority: Duration], export: [EvidencePriority: Duration]) {
        self.acknowledge = acknowledge
        self.export = export
    }

    /// When a task of `priority` created at `now` must be acknowledged and exported, to the whole microsecond.
    public func deadlines(_ priority: EvidencePriority, from now: Date) -> (acknowledge: Date, export: Date) {
        let ack = acknowledge[priority] ?? Self.standard.acknowledge[priority] ?? .seconds(86_400)
        let exp = export[priority] ?? Self.standard.export[priority] ?? .seconds(7 * 86_400)
        // In the stored form, so the deadlines a create returns are the ones a later read finds.
        return (now.addingTimeInterval(ack.seconds).wholeMicroseconds, now.addingTimeInterval(exp.seconds).wholeMicroseconds)
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    public var seconds: TimeInterval { TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18 }
}

/// A camera a request found, with what the planner needs to know about it.
public struct EvidenceCandidate: Sendable, Hashable {
    public var cameraID: UUID
    public var ownerOrganisationID: UUID
    /// The room that monitors it, and that room's operator.
    public var controlRoomID: UUID?
    public var roomOperatorID: UUID?
    /// When the window's first footage is overwritten: `window_from` plus the retention period.
    public var overwriteAt: Date
    /// In service during the window (commissioned, not decommissioned, not merely planned).
    public var inService: Bool
    public var covert: Bool
    /// What its task shows of it.
    public var facts: TaskCameraFacts

    /// A candidate from its parts.
    public init(
        cameraID: UUID, ownerOrganisationID: UUID, controlRoomID: UUID?, roomOperatorID: UUID?, overwriteAt: Date, inService: Bool, covert: Bool,
        facts: TaskCameraFacts
    ) {
        self.cameraID = cameraID
        self.ownerOrganisationID = ownerOrganisationID
        self.controlRoomID = controlRoomID
        self.roomOperatorID = roomOperatorID
        self.overwriteAt = overwriteAt
        self.inService = inService
        self.covert = covert
        self.facts = facts
    }

    /// Who holds the footage: the monitoring room's operator, or the owner when no room monitors it.
    public var holder: EvidenceHolder {
        if let controlRoomID, let roomOperatorID { return EvidenceHolder(organisationID: roomOperatorID, controlRoomID: controlRoomID) }
        return EvidenceHolder(organisationID: ownerOrganisationID, controlRoomID: nil)
    }
}

/// Who is asked for footage: a control room (and its operator), or an organisation whose cameras no room monitors.
public struct EvidenceHolder: Sendable, Hashable {
    public var organisationID: UUID
    public var controlRoomID: UUID?

    /// A holder from its parts.
    public init(organisationID: UUID, controlRoomID: UUID?) {
        self.organisationID = organisationID
        self.controlRoomID = controlRoomID
    }
}

/// Why a camera a request found was not tasked.
public enum ExclusionReason: String, Sendable, Hashable, CaseIterable, Codable {
    /// Its footage of the window is overwritten already.
    case alreadyOverwritten = "already_overwritten"
    /// Named explicitly, but not in service during the window.
    case notInService = "not_in_service"
}

/// What a request turns into (DESIGN §4.1 steps 2–3): one task per holder, and the cameras left out and why.
public struct EvidencePlan: Sendable, Hashable {
    /// One holder's task.
    public struct Task: Sendable, Hashable {
        public var holder: EvidenceHolder
        public var cameras: [EvidenceCandidate]
        public var ackDueAt: Date
        public var exportDueAt: Date
        /// The earliest overwrite among its cameras.
        public var overwriteAt: Date
        /// The footage may be gone before the holder must even acknowledge.
        public var atRisk: Bool
        /// Every camera is covert.
        public var covert: Bool { cameras.allSatisfy { $0.covert } }
    }

    /// A camera not tasked.
    public struct Exclusion: Sendable, Hashable {
        public var camera: EvidenceCandidate
        public var reason: ExclusionReason
    }

    public var tasks: [Task]
    public var exclusions: [Exclusion]

    /// Why the request has no task, when it has none: `no_cameras_found` or `all_overwritten`.
    public var emptyReason: String? {
        guard tasks.isEmpty else { return nil }
        return exclusions.isEmpty
            ? "no_cameras_found" : exclusions.allSatisfy { $0.reason == .alreadyOverwritten } ? "all_overwritten" : "none_in_service"
    }

    /// The status a new request starts in.
    public var initialStatus: EvidenceRequestStatus { tasks.isEmpty ? .noFootage : .open }

    /// Plans a request of `priority` made at `now` over `candidates`: cameras out of service or overwritten are
    /// left out with their reason; the rest are grouped by holder, each group with its deadlines. Tasks come in
    /// a stable order (most urgent overwrite first), and cameras within a task by id.
    public static func make(candidates: [EvidenceCandidate], priority: EvidencePriority, now: Date, sla: EvidenceSLA) -> EvidencePlan {
        var exclusions: [Exclusion] = []
        var groups: [EvidenceHolder: [EvidenceCandidate]] = [:]
        for candidate in candidates.sorted(by: { $0.cameraID.uuidString < $1.cameraID.uuidString }) {
            if !candidate.inService {
                exclusions.append(Exclusion(camera: candidate, reason: .notInService))
            } else if candidate.overwriteAt <= now {
                exclusions.append(Exclusion(camera: candidate, reason: .alreadyOverwritten))
            } else {
                groups[candidate.holder, default: []].append(candidate)
            }
        }
        let deadlines = sla.deadlines(priority, from: now)
        let tasks = groups.map { holder, cameras in
            let overwriteAt = cameras.map(\.overwriteAt).min() ?? now
            return Task(
                holder: holder, cameras: cameras, ackDueAt: deadlines.acknowledge, exportDueAt: deadlines.export, overwriteAt: overwriteAt,
                atRisk: overwriteAt < deadlines.acknowledge
            )
        }
        .sorted { ($0.overwriteAt, $0.holder.organisationID.uuidString) < ($1.overwriteAt, $1.holder.organisationID.uuidString) }
        return EvidencePlan(tasks: tasks, exclusions: exclusions)
    }
}

/// A request as stored.
public struct EvidenceRequest: Sendable, Hashable, Identifiable {
    public var id: UUID
    /// `SL-YYYY-NNNNNN`.
    public var reference: String
    public var requesterOrganisationID: UUID
    public var draft: EvidenceRequestDraft
    public var status: EvidenceRequestStatus
    /// Why it has no task, when it has none.
    public var statusReason: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    /// A request from its parts.
    public init(
        id: UUID, reference: String, requesterOrganisationID: UUID, draft: EvidenceRequestDraft, status: EvidenceRequestStatus,
        statusReason: String?, createdAt: Date, updatedAt: Date, version: Int
    ) {
        self.id = id
        self.reference = reference
        self.requesterOrganisationID = requesterOrganisationID
        self.draft = draft
        self.status = status
        self.statusReason = statusReason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

/// A camera a request left out, as stored.
public struct ExcludedCamera: Sendable, Hashable {
    public var cameraID: UUID
    public var reason: ExclusionReason
    public var overwriteAt: Date?
    public var covert: Bool

    /// An exclusion from its parts.
    public init(cameraID: UUID, reason: ExclusionReason, overwriteAt: Date?, covert: Bool) {
        self.cameraID = cameraID
        self.reason = reason
        self.overwriteAt = overwriteAt
        self.covert = covert
    }
}

/// Which requests a list covers.
public struct EvidenceRequestFilter: Sendable, Hashable {
    public var status: EvidenceRequestStatus?
    public var crimeReference: String?

    /// A filter; every condition given must hold.
    public init(status: EvidenceRequestStatus? = nil, crimeReference: String? = nil) {
        self.status = status
        self.crimeReference = crimeReference
    }
}

/// An evidence request with its tasks and the cameras it left out, as a store reads it.
public struct EvidenceRequestDetail: Sendable, Hashable {
    public var request: EvidenceRequest
    public var tasks: [EvidenceTask]
    public var exclusions: [ExcludedCamera]

    /// A detail from its parts.
    public init(request: EvidenceRequest, tasks: [EvidenceTask], exclusions: [ExcludedCamera]) {
        self.request = request
        self.tasks = tasks
        self.exclusions = exclusions
    }
}
