import Domain
import Foundation
import LibPQ

/// Evidence requests and their tasks (DESIGN §4.1).
///
/// Every change locks the request row before any of its tasks, so two tasks of one request settling at once
/// still derive the request's status from each other's outcome.
public struct EvidenceStore: Sendable {
    let database: Database
    var clock: any WallClock { database.clock }

    /// A store over `database`, reading the time from its clock: every deadline is computed from it, once per change.
    public init(_ database: Database) { self.database = database }

    /// The time by its clock.
    public func now() -> Date { clock.now() }

    /// What the requester said, as `EvidenceRequestDraft(row:at:)` reads it: 18 columns of `evidence_requests q`.
    static let draftColumns = """
        q.crime_reference, q.incident_reference, q.offence, q.priority, q.legal_basis, q.authorised_by, ST_Y(q.location::geometry),
        ST_X(q.location::geometry), q.radius_m, q.window_from, q.window_to, q.required_dori, q.camera_ids, q.notes, q.contact_name,
        q.contact_role, q.contact_email, q.contact_phone
        """

    /// What a task shows of a camera (`cameras c`), as `TaskCameraFacts(row:at:)` reads it: 6 columns.
    static let cameraFactColumns = """
        c.external_ref, c.kind, ST_Y(c.location::geometry), ST_X(c.location::geometry), c.heading_deg::float8, c.field_of_view_deg::float8
        """

    static let requestColumns =
        "q.id, q.reference, q.requester_org_id, " + draftColumns + ", q.status, q.status_reason, q.created_at, q.updated_at, q.version"

    /// A task's columns, then how many items it has, then its request's draft (`evidence_tasks t` joined to
    /// `evidence_requests q`).
    static let taskColumns =
        """
        t.id, t.request_id, q.reference, t.requester_org_id, t.holder_org_id, t.control_room_id, t.status, t.priority, t.ack_due_at,
        t.export_due_at, t.overwrite_at, t.at_risk, t.hold_until, t.acknowledged_at, t.outcome_reason, t.outcome_notes, t.covert,
        t.created_at, t.updated_at, t.version, t.hold_released_at, t.escalation_level,
        (SELECT count(*) FROM evidence_items i WHERE i.task_id = t.id),
        """ + draftColumns

    // MARK: Queries shared by the evidence stores

    static func detail(_ requestID: UUID, on connection: PostgresConnection) async throws -> EvidenceRequestDetail {
        let request = try EvidenceRequest(
            row: try await connection.query("SELECT " + requestColumns + " FROM evidence_requests q WHERE q.id = $1", requestID)[0])
        let tasks = try await tasks(.request(requestID), on: connection)
        let exclusions = try await connection.query(
            "SELECT camera_id, reason, overwrite_at, covert FROM evidence_request_exclusions WHERE request_id = $1 ORDER BY camera_id", requestID
        ).map { row in
            ExcludedCamera(
                cameraID: try row.decode(0), reason: ExclusionReason(rawValue: try row.decode(1, as: String.self)) ?? .alreadyOverwritten,
                overwriteAt: try row.decode(2), covert: try row.decode(3)
            )
        }
        return EvidenceRequestDetail(request: request, tasks: tasks, exclusions: exclusions)
    }

    /// Which tasks `tasks(_:on:)` reads.
    enum TaskSelection {
        /// The task with this id.
        case id(UUID)
        /// A request's tasks, by overwrite time then id.
        case request(UUID)
        /// One page of the queue of tasks an organisation holds or asked for, in queue order: at risk first, then
        /// live tasks by the deadline that matters now, then settled ones; after the cursor's key, if any.
        case queue(organisationID: UUID, covert: (all: Bool, owner: UUID?), filter: EvidenceTaskFilter, after: QueueKey?, limit: Int)
    }

    /// A task's place in the queue: its rank (0 at risk and live, 1 live, 2 settled), its escalation level
    /// (highest first), the deadline that matters now (seconds since 1970), and its id.
    struct QueueKey {
        var rank: Int
        var escalationLevel: Int
        var deadline: Double
        var id: UUID

        init(rank: Int, escalationLevel: Int, deadline: Double, id: UUID) {
            self.rank = rank
            self.escalationLevel = escalationLevel
            self.deadline = deadline
            self.id = id
        }

        /// The key of `task` in the queue.
        init(_ task: EvidenceTask) {
            rank = task.status.isLive ? (task.atRisk ? 0 : 1) : 2
            escalationLevel = task.escalationLevel
            deadline =
                (task.status == .pending ? task.ackDueAt : task.status == .acknowledged ? task.exportDueAt : task.createdAt).timeIntervalSince1970
            id = task.id
        }

        /// The key from a cursor's parts, or `nil` if they are not one.
        init?(_ parts: [String]) {
            guard parts.count == 4, let rank = Int(parts[0]), let level = Int(parts[1]), let deadline = Double(parts[2]),
                let id = UUID(uuidString: parts[3])
            else { return nil }
            self.init(rank: rank, escalationLevel: level, deadline: deadline, id: id)
        }

        /// The cursor's parts.
        var parts: [String] { [String(rank), String(escalationLevel), String(format: "%.6f", deadline), id.uuidString] }
    }

    /// The tasks `selection` names (over `evidence_tasks t` joined to `evidence_requests q`), with their cameras.
    static func tasks(_ selection: TaskSelection, on connection: PostgresConnection) async throws -> [EvidenceTask] {
        let select = "SELECT " + taskColumns + " FROM evidence_tasks t JOIN evidence_requests q ON q.id = t.request_id "
        let sql: String
        let parameters: [(any PostgresEncodable)?]
        switch selection {
        case .id(let id):
            sql = select + "WHERE t.id = $1"
            parameters = [id]
        case .request(let id):
            sql = select + "WHERE t.request_id = $1 ORDER BY t.overwrite_at, t.id"
            parameters = [id]
        case .queue(let organisationID, let covert, let filter, let after, let limit):
            // The queue order as one sort key, the same the cursor's key is made of: at risk first, then the most
            // escalated, then the nearest deadline.
            let key = """
                (CASE WHEN t.status IN ('pending', 'acknowledged') THEN (CASE WHEN t.at_risk THEN 0 ELSE 1 END) ELSE 2 END),
                -t.escalation_level,
                extract(epoch FROM CASE t.status WHEN 'pending' THEN t.ack_due_at WHEN 'acknowledged' THEN t.export_due_at
                                                 ELSE t.created_at END),
                t.id
                """
            sql =
                select + """
                    WHERE (t.requester_org_id = $1 OR t.holder_org_id = $1)
                      AND (NOT t.covert OR $2 OR t.holder_org_id = $3)
                      AND ($4::text IS NULL OR t.status = $4)
                      AND ($5::uuid IS NULL OR t.control_room_id = $5)
                      AND ($6::text IS NULL OR t.priority = $6)
                      AND ($7::uuid IS NULL OR t.request_id = $7)
                      AND ($8::int IS NULL OR (\(key)) > ($8, -$9::int, $10::float8, $11::uuid))
                    ORDER BY \(key)
                    LIMIT $12
                    """
            parameters = [
                organisationID, covert.all, covert.owner, filter.status?.rawValue, filter.controlRoomID, filter.priority?.rawValue, filter.requestID,
                after?.rank, after?.escalationLevel, after?.deadline, after?.id, limit,
            ]
        }
        var tasks = try await connection.query(sql, parameters: parameters).map(EvidenceTask.init(row:))
        guard !tasks.isEmpty else { return [] }
        var cameras: [UUID: [EvidenceTask.Camera]] = [:]
        for row in try await connection.query(
            """
            SELECT x.task_id, x.camera_id, x.overwrite_at, x.covert, x.outcome, \(cameraFactColumns)
            FROM evidence_task_cameras x JOIN cameras c ON c.id = x.camera_id
            WHERE x.task_id = ANY ($1::uuid[]) ORDER BY x.camera_id
            """,
            tasks.map(\.id)
        ) {
            cameras[try row.decode(0), default: []].append(
                EvidenceTask.Camera(
                    cameraID: try row.decode(1), overwriteAt: try row.decode(2), covert: try row.decode(3),
                    outcome: CameraOutcome(rawValue: try row.decode(4, as: String.self)) ?? .pending, facts: try TaskCameraFacts(row: row, at: 5)
                )
            )
        }
        for index in tasks.indices { tasks[index].cameras = cameras[tasks[index].id] ?? [] }
        return tasks
    }
}

extension JSONEncoder {
    /// An encoder for `jsonb_to_recordset` input: dates as seconds since 1970 (read back with `to_timestamp`).
    static var postgres: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }
}

extension TaskCameraFacts {
    /// Facts from `EvidenceStore.cameraFactColumns` starting at column `base`.
    init(row: PostgresRow, at base: Int) throws {
        guard let kind = CameraKind(rawValue: try row.decode(base + 1)) else { throw StoredValueError(column: "cameras.kind") }
        self.init(
            externalRef: try row.decode(base), kind: kind, location: Location(lat: try row.decode(base + 2), lon: try row.decode(base + 3)),
            headingDegrees: try row.decode(base + 4), fieldOfViewDegrees: try row.decode(base + 5)
        )
    }
}

extension EvidenceRequestDraft {
    /// A draft from `EvidenceStore.draftColumns` starting at column `base`.
    init(row: PostgresRow, at base: Int) throws {
        guard let priority = EvidencePriority(rawValue: try row.decode(base + 3)) else {
            throw StoredValueError(column: "evidence_requests.priority")
        }
        let dori: String? = try row.decode(base + 11)
        let contactName: String? = try row.decode(base + 14)
        self.init(
            crimeReference: try row.decode(base), incidentReference: try row.decode(base + 1), offence: try row.decode(base + 2), priority: priority,
            legalBasis: try row.decode(base + 4), authorisedBy: try row.decode(base + 5),
            location: Location(lat: try row.decode(base + 6), lon: try row.decode(base + 7)), radiusMetres: try row.decode(base + 8),
            windowFrom: try row.decode(base + 9), windowTo: try row.decode(base + 10), requiredDORI: dori.flatMap(DORI.init),
            cameraIDs: try row.decode(base + 12), notes: try row.decode(base + 13),
            contact: try contactName.map {
                RequesterContact(name: $0, role: try row.decode(base + 15), email: try row.decode(base + 16), phone: try row.decode(base + 17))
            }
        )
    }
}

extension EvidenceRequest {
    init(row: PostgresRow) throws {
        guard let status = EvidenceRequestStatus(rawValue: try row.decode(21)) else { throw StoredValueError(column: "evidence_requests.status") }
        self.init(
            id: try row.decode(0), reference: try row.decode(1), requesterOrganisationID: try row.decode(2),
            draft: try EvidenceRequestDraft(row: row, at: 3),
            status: status, statusReason: try row.decode(22), createdAt: try row.decode(23), updatedAt: try row.decode(24),
            version: try row.decode(25)
        )
    }
}

extension EvidenceTask {
    init(row: PostgresRow) throws {
        guard let status = EvidenceTaskStatus(rawValue: try row.decode(6)) else { throw StoredValueError(column: "evidence_tasks.status") }
        guard let priority = EvidencePriority(rawValue: try row.decode(7)) else { throw StoredValueError(column: "evidence_tasks.priority") }
        self.init(
            id: try row.decode(0), requestID: try row.decode(1), reference: try row.decode(2), requesterOrganisationID: try row.decode(3),
            holder: EvidenceHolder(organisationID: try row.decode(4), controlRoomID: try row.decode(5)), status: status, priority: priority,
            ackDueAt: try row.decode(8), exportDueAt: try row.decode(9), overwriteAt: try row.decode(10), atRisk: try row.decode(11),
            holdUntil: try row.decode(12), holdReleasedAt: try row.decode(20), escalationLevel: try row.decode(21),
            acknowledgedAt: try row.decode(13),
            outcomeReason: try row.decode(14), outcomeNotes: try row.decode(15), covert: try row.decode(16), cameras: [],
            itemCount: try row.decode(22), brief: EvidenceBrief(try EvidenceRequestDraft(row: row, at: 23)), createdAt: try row.decode(17),
            updatedAt: try row.decode(18), version: try row.decode(19)
        )
    }
}
