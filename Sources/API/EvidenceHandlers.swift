import Domain
import Foundation
import OpenAPIRuntime
import Storage

/// `/v1/evidence-requests` and `/v1/evidence-tasks`.
extension SightlineAPI {
    func createEvidenceRequest(_ input: Operations.CreateEvidenceRequest.Input) async throws -> Operations.CreateEvidenceRequest.Output {
        let caller = try Caller.required()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        let draft = try EvidenceRequestDraft(body)
        try draft.validate(now: clock.now(), citedLegalBasis: body.legalBasis != nil, requesterKind: caller.organisationKind)
        let detail = try await evidence.create(
            draft, requesterOrganisationID: caller.organisationID, requesterKeyID: caller.keyID, visibility: CovertVisibility(for: caller),
            sla: evidenceSettings.sla,
            serviceAreaMarginMetres: evidenceSettings.serviceAreaMarginMetres,
            actor: auditor.actor(caller)
        )
        let view = try await EvidenceView(caller: caller, store: evidence)
        try await auditCovertRead(tasks: detail.tasks, caller: caller, via: "evidence_request")
        return .created(
            .init(headers: .init(eTag: Preconditions.etag(version: detail.request.version)), body: .json(.init(detail, view: view)))
        )
    }

    func listEvidenceRequests(_ input: Operations.ListEvidenceRequests.Input) async throws -> Operations.ListEvidenceRequests.Output {
        let caller = try Caller.required()
        let query = input.query
        let page = try PageRequest(limit: query.limit.map(Int.init), cursor: query.cursor)
        let filter = EvidenceRequestFilter(
            status: query.status.flatMap { EvidenceRequestStatus(rawValue: $0.rawValue) }, crimeReference: query.crimeReference
        )
        let result = try await evidence.requests(organisationID: caller.organisationID, filter: filter, page: page)
        return .ok(.init(body: .json(.init(items: result.items.map { .init($0) }, nextCursor: result.nextCursor?.encoded))))
    }

    func getEvidenceRequest(_ input: Operations.GetEvidenceRequest.Input) async throws -> Operations.GetEvidenceRequest.Output {
        let caller = try Caller.required()
        let detail = try await found(input.path.id) { id in
            try await evidence.request(id: id, organisationID: caller.organisationID, visibility: CovertVisibility(for: caller))
        }
        let view = try await EvidenceView(caller: caller, store: evidence)
        try await auditCovertRead(tasks: detail.tasks, caller: caller, via: "evidence_request")
        return .ok(.init(headers: .init(eTag: Preconditions.etag(version: detail.request.version)), body: .json(.init(detail, view: view))))
    }

    func cancelEvidenceRequest(_ input: Operations.CancelEvidenceRequest.Input) async throws -> Operations.CancelEvidenceRequest.Output {
        let caller = try Caller.required()
        var notes: String?
        if case .json(let body) = input.body { notes = body.notes }
        if let problem = TextRules.problem(notes, at: "/notes", maximum: 2000) { throw ValidationError([problem]) }
        let current = try await found(input.path.id) { id in
            try await evidence.request(id: id, organisationID: caller.organisationID, visibility: CovertVisibility(for: caller))
        }
        try Preconditions.check(ifMatch: input.headers.ifMatch, currentVersion: current.request.version)
        guard
            let detail = try await evidence.cancel(
                requestID: current.request.id, organisationID: caller.organisationID, expectedVersion: current.request.version, notes: notes,
                visibility: CovertVisibility(for: caller), actor: auditor.actor(caller)
            )
        else { throw Problem.notFound() }
        let view = try await EvidenceView(caller: caller, store: evidence)
        try await auditCovertRead(tasks: detail.tasks, caller: caller, via: "evidence_request")
        return .ok(.init(headers: .init(eTag: Preconditions.etag(version: detail.request.version)), body: .json(.init(detail, view: view))))
    }

    func listEvidenceTasks(_ input: Operations.ListEvidenceTasks.Input) async throws -> Operations.ListEvidenceTasks.Output {
        let caller = try Caller.required()
        let query = input.query
        var collector = ProblemCollector()
        let page = collector.attempt { () throws(ValidationError) in try PageRequest(limit: query.limit.map(Int.init), cursor: query.cursor) }
        let room = collector.attempt { () throws(ValidationError) in try RequestParsing.uuid(query.controlRoomId, parameter: "control_room_id") }
        let request = collector.attempt { () throws(ValidationError) in try RequestParsing.uuid(query.requestId, parameter: "request_id") }
        try collector.check()
        guard let page else { throw Problem.malformedBody("The query could not be read.") }
        let filter = EvidenceTaskFilter(
            status: query.status.flatMap { EvidenceTaskStatus(rawValue: $0.rawValue) }, controlRoomID: room,
            priority: query.priority.flatMap { EvidencePriority(rawValue: $0.rawValue) }, requestID: request
        )
        let result = try await evidence.tasks(
            organisationID: caller.organisationID, visibility: CovertVisibility(for: caller), filter: filter, page: page)
        let view = try await EvidenceView(caller: caller, store: evidence)
        try await auditCovertRead(tasks: result.items, caller: caller, via: "evidence_task_list")
        return .ok(.init(body: .json(.init(items: result.items.map { .init($0, items: nil, view: view) }, nextCursor: result.nextCursor?.encoded))))
    }

    func getEvidenceTask(_ input: Operations.GetEvidenceTask.Input) async throws -> Operations.GetEvidenceTask.Output {
        let caller = try Caller.required()
        let (task, view) = try await visibleTask(input.path.id, caller: caller)
        let items = try await evidenceItems.items(taskID: task.id)
        try await auditCovertRead(tasks: [task], caller: caller, via: "evidence_task")
        return .ok(.init(headers: .init(eTag: Preconditions.etag(version: task.version)), body: .json(.init(task, items: items, view: view))))
    }

    func transitionEvidenceTask(_ input: Operations.TransitionEvidenceTask.Input) async throws -> Operations.TransitionEvidenceTask.Output {
        let caller = try Caller.required()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        guard let action = EvidenceTaskAction(rawValue: body.action.rawValue) else {
            throw ValidationError([.init(pointer: "/action", detail: "is not a task action")])
        }
        // Collecting writes the chain of custody of every item, which names the person.
        if action == .collect { _ = try RequestInfo.requiredPerson() }
        let move = EvidenceTaskMove(action: action, reason: body.reason, notes: body.notes, holdUntil: body.holdUntil)
        let (task, view) = try await visibleTask(input.path.id, caller: caller)
        let parties = view.parties(task)
        try EvidenceRules.check(action.side, of: parties, by: caller)
        try Preconditions.check(ifMatch: input.headers.ifMatch, currentVersion: task.version)
        let next = try EvidenceTaskMachine.next(
            from: task.status, by: action, hasItems: task.itemCount > 0, allowedToCaller: view.allowedActions(task)
        )
        let hold = try move.validate(now: clock.now(), task: task, policy: evidenceSettings.hold)
        guard
            let moved = try await evidence.transition(
                taskID: task.id, expectedVersion: task.version, to: next, move: move, holdUntil: hold, keyID: caller.keyID,
                actor: auditor.actor(caller)
            )
        else { throw Problem.notFound() }
        let items = try await evidenceItems.items(taskID: task.id)
        try await auditCovertRead(tasks: [moved.visible(to: view.visibility)], caller: caller, via: "evidence_task")
        return .ok(
            .init(
                headers: .init(eTag: Preconditions.etag(version: moved.version)),
                body: .json(.init(moved.visible(to: view.visibility), items: items, view: view))))
    }

    /// The task with `id` if `caller` may see it (else the 404 of a task that does not exist), with the view
    /// that decides what the caller may do with it.
    func visibleTask(_ id: String, caller: Principal) async throws -> (EvidenceTask, EvidenceView) {
        guard let id = UUID(uuidString: id), let task = try await evidence.task(id: id) else { throw Problem.notFound() }
        let view = try await EvidenceView(caller: caller, store: evidence)
        guard EvidenceRules.maySee(view.parties(task), caller: caller) else { throw Problem.notFound() }
        return (task.visible(to: view.visibility), view)
    }
}

/// What a caller may see and do with evidence: covert visibility, and the rooms their force is embedded in.
struct EvidenceView: Sendable {
    let caller: Principal
    let visibility: CovertVisibility
    let embeddedRooms: Set<UUID>
    /// The time the view was taken, which decides whether a hold has expired.
    let now: Date

    init(caller: Principal, store: EvidenceStore) async throws {
        self.caller = caller
        now = store.now()
        visibility = CovertVisibility(for: caller)
        embeddedRooms = caller.role == .embeddedOfficer ? try await store.embeddedRooms(policeOrganisationID: caller.organisationID) : []
    }

    func parties(_ task: EvidenceTask) -> EvidenceRules.TaskParties {
        task.parties(callerEmbeddedInRoom: task.holder.controlRoomID.map(embeddedRooms.contains) ?? false)
    }

    /// The moves the caller may make on `task` now.
    func allowedActions(_ task: EvidenceTask) -> [EvidenceTaskAction] {
        EvidenceRules.allowedActions(parties(task), status: task.status, hasItems: task.itemCount > 0, caller: caller)
    }
}

extension EvidenceRequestDraft {
    init(_ body: Components.Schemas.EvidenceRequestCreate) throws(ValidationError) {
        var problems: [FieldProblem] = []
        var ids: [UUID] = []
        for (index, text) in (body.cameraIds ?? []).enumerated() {
            if let id = UUID(uuidString: text) {
                ids.append(id)
            } else {
                problems.append(.init(pointer: "/camera_ids/\(index)", detail: "is not a UUID"))
            }
        }
        guard problems.isEmpty else { throw ValidationError(problems) }
        self.init(
            crimeReference: body.crimeReference, incidentReference: body.incidentReference, offence: body.offence,
            priority: EvidencePriority(rawValue: body.priority.rawValue) ?? .standard, legalBasis: body.legalBasis, authorisedBy: body.authorisedBy,
            location: Location(lat: body.location.lat, lon: body.location.lon), radiusMetres: body.radiusM, windowFrom: body.windowFrom,
            windowTo: body.windowTo, requiredDORI: body.requiredDori.flatMap { DORI(rawValue: $0.rawValue) }, cameraIDs: ids, notes: body.notes,
            contact: body.requesterContact.map { RequesterContact(name: $0.name, role: $0.role, email: $0.email, phone: $0.phone) }
        )
    }
}

extension Components.Schemas.EvidenceRequest {
    init(_ request: EvidenceRequest) {
        let draft = request.draft
        self.init(
            id: request.id.uuidString.lowercased(), reference: request.reference,
            requesterOrgId: request.requesterOrganisationID.uuidString.lowercased(),
            crimeReference: draft.crimeReference, incidentReference: draft.incidentReference, offence: draft.offence,
            priority: .init(rawValue: draft.priority.rawValue) ?? .standard, legalBasis: draft.legalBasis, authorisedBy: draft.authorisedBy,
            location: .init(draft.location), radiusM: draft.radiusMetres, windowFrom: draft.windowFrom, windowTo: draft.windowTo,
            requiredDori: draft.requiredDORI.flatMap { .init(rawValue: $0.rawValue) }, cameraIds: draft.cameraIDs.map { $0.uuidString.lowercased() },
            notes: draft.notes, requesterContact: draft.contact.map(Components.Schemas.RequesterContact.init),
            status: .init(rawValue: request.status.rawValue) ?? .open, statusReason: request.statusReason,
            createdAt: request.createdAt, updatedAt: request.updatedAt, version: request.version
        )
    }

    init(_ detail: EvidenceRequestDetail, view: EvidenceView) {
        self.init(detail.request)
        // Explicitly named cameras the caller may not know of never appear (they could not have named them).
        // The request's own fields are its tasks' brief: each task leaves it out here.
        tasks = detail.tasks.map { .init($0, items: nil, view: view, withBrief: false) }
        excludedCameras = detail.exclusions.map {
            .init(
                cameraId: $0.cameraID.uuidString.lowercased(), reason: .init(rawValue: $0.reason.rawValue) ?? .alreadyOverwritten,
                overwriteAt: $0.overwriteAt)
        }
    }
}

extension Components.Schemas.RequesterContact {
    init(_ contact: RequesterContact) {
        self.init(name: contact.name, role: contact.role, email: contact.email, phone: contact.phone)
    }
}

extension Components.Schemas.EvidenceTask {
    /// The task as `view` shows it; with its brief unless it is shown inside its request (`withBrief: false`).
    init(_ task: EvidenceTask, items: [EvidenceItem]?, view: EvidenceView, withBrief: Bool = true) {
        let brief = task.brief.request
        self.init(
            id: task.id.uuidString.lowercased(), requestId: task.requestID.uuidString.lowercased(), reference: task.reference,
            requesterOrgId: task.requesterOrganisationID.uuidString.lowercased(), holderOrgId: task.holder.organisationID.uuidString.lowercased(),
            controlRoomId: task.holder.controlRoomID?.uuidString.lowercased(), status: .init(rawValue: task.status.rawValue) ?? .pending,
            priority: .init(rawValue: task.priority.rawValue) ?? .standard, ackDueAt: task.ackDueAt, exportDueAt: task.exportDueAt,
            overwriteAt: task.overwriteAt, atRisk: task.atRisk, holdUntil: task.holdUntil, holdReleasedAt: task.holdReleasedAt,
            holdExpired: task.holdExpired(at: view.now), escalationLevel: task.escalationLevel,
            brief: !withBrief
                ? nil
                : .init(
                    crimeReference: brief.crimeReference, incidentReference: brief.incidentReference, offence: brief.offence,
                    priority: .init(rawValue: brief.priority.rawValue) ?? .standard, legalBasis: brief.legalBasis, authorisedBy: brief.authorisedBy,
                    location: .init(brief.location), radiusM: brief.radiusMetres, windowFrom: brief.windowFrom, windowTo: brief.windowTo,
                    requiredDori: brief.requiredDORI.flatMap { .init(rawValue: $0.rawValue) }, notes: brief.notes,
                    requesterContact: brief.contact.map(Components.Schemas.RequesterContact.init)
                ),
            acknowledgedAt: task.acknowledgedAt, outcomeReason: task.outcomeReason, outcomeNotes: task.outcomeNotes,
            cameras: task.cameras.map { camera in
                let sightline = camera.facts.sightline(to: brief.location)
                return .init(
                    cameraId: camera.cameraID.uuidString.lowercased(), outcome: .init(rawValue: camera.outcome.rawValue) ?? .pending,
                    overwriteAt: camera.overwriteAt, externalRef: camera.facts.externalRef,
                    kind: .init(rawValue: camera.facts.kind.rawValue) ?? .other,
                    location: .init(camera.facts.location), distanceM: sightline.distanceMetres, bearingDeg: sightline.bearingDegrees,
                    incidentInView: sightline.incidentInView
                )
            },
            items: items?.map(Components.Schemas.EvidenceItem.init),
            allowedActions: view.allowedActions(task).compactMap { .init(rawValue: $0.rawValue) },
            createdAt: task.createdAt, updatedAt: task.updatedAt, version: task.version
        )
    }
}
