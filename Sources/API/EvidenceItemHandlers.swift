import Domain
import Foundation
import HTTPTypes
import OpenAPIRuntime
import Storage

/// `/v1/evidence-tasks/{id}/items` and `/v1/evidence-items`.
extension SightlineAPI {
    func registerEvidenceItem(_ input: Operations.RegisterEvidenceItem.Input) async throws -> Operations.RegisterEvidenceItem.Output {
        let caller = try Caller.required()
        // It writes the chain of custody, which names the person.
        _ = try RequestInfo.requiredPerson()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        let (task, view) = try await visibleTask(input.path.id, caller: caller)
        try EvidenceRules.check(.holder, of: view.parties(task), by: caller)
        let cameraID = try RequestParsing.uuid(body.cameraId, pointer: "/camera_id")
        let draft = EvidenceItemDraft(
            cameraID: cameraID, exhibitRef: body.exhibitRef, fileName: body.fileName, format: body.format, sizeBytes: body.sizeBytes,
            sha256: body.sha256, recordedFrom: body.recordedFrom, recordedTo: body.recordedTo, clockOffsetSeconds: body.clockOffsetS
        )
        try draft.validate(taskCameras: Set(task.cameras.map(\.cameraID)), window: (task.brief.request.windowFrom, task.brief.request.windowTo))
        guard let item = try await evidenceItems.register(taskID: task.id, draft: draft, keyID: caller.keyID, actor: auditor.actor(caller)) else {
            throw Problem.notFound()
        }
        return .created(.init(headers: .init(eTag: Preconditions.etag(version: item.version)), body: .json(.init(item))))
    }

    func getEvidenceItem(_ input: Operations.GetEvidenceItem.Input) async throws -> Operations.GetEvidenceItem.Output {
        let caller = try Caller.required()
        let (item, _, _) = try await visibleItem(input.path.id, caller: caller)
        return .ok(.init(headers: .init(eTag: Preconditions.etag(version: item.version)), body: .json(.init(item))))
    }

    func uploadEvidenceContent(_ input: Operations.UploadEvidenceContent.Input) async throws -> Operations.UploadEvidenceContent.Output {
        let caller = try Caller.required()
        // It writes the chain of custody, which names the person.
        _ = try RequestInfo.requiredPerson()
        let (item, task, view) = try await visibleItem(input.path.id, caller: caller)
        try EvidenceRules.check(.holder, of: view.parties(task), by: caller)
        guard item.status == .registered else { throw StateConflict("The item's content was uploaded already; a master exhibit is written once.") }
        guard case .binary(let body) = input.body else { throw Problem.unsupportedMediaType("Upload the file as application/octet-stream.") }
        if case .known(let length) = body.length, length != item.draft.sizeBytes {
            throw Problem.contentMismatch("The body is \(length) bytes; the item was registered as \(item.draft.sizeBytes).")
        }
        try await content.prepare()
        let staged: EvidenceContentStore.Staged
        do {
            staged = try await content.stage(body, expectedSize: item.draft.sizeBytes, expectedSHA256: item.draft.sha256)
        } catch let mismatch as EvidenceContentStore.Mismatch {
            try await auditor.record(
                "evidence_item.upload", .failed, by: auditor.actor(caller), entityType: "evidence_item", entityID: item.id.uuidString.lowercased(),
                detail: ["reason": .string(mismatch.reason)]
            )
            if case .interrupted = mismatch { throw Problem.malformedBody(mismatch.detail) }
            throw Problem.contentMismatch(mismatch.detail)
        }
        let name = item.id.uuidString.lowercased()
        do {
            let content = self.content
            guard
                let stored = try await evidenceItems.completeUpload(
                    id: item.id, contentName: name, actor: auditor.actor(caller),
                    place: {
                        try await content.place(staged, as: name)
                    })
            else { throw Problem.notFound() }
            return .ok(.init(body: .json(.init(stored))))
        } catch {
            await content.discard(staged)
            throw error
        }
    }

    func downloadEvidenceContent(_ input: Operations.DownloadEvidenceContent.Input) async throws -> Operations.DownloadEvidenceContent.Output {
        let caller = try Caller.required()
        // It writes the chain of custody, which names the person.
        _ = try RequestInfo.requiredPerson()
        let (item, _, _) = try await visibleItem(input.path.id, caller: caller)
        guard let name = item.contentPath else {
            throw StateConflict(
                item.status == .purged ? "The content was purged; its hash and custody trail remain." : "No content has been uploaded.")
        }
        let size = item.draft.sizeBytes
        let etag = "\"" + item.draft.sha256 + "\""
        let range: Range<Int64>?
        switch ByteRangeRequest(header: input.headers.range, size: size) {
        case .whole: range = nil
        case .partial(let part): range = part
        case .unsatisfiable: throw Problem.rangeNotSatisfiable(size: size)
        }
        let bytes = range ?? 0..<size
        let chunks = try content.read(name, range: bytes)
        try await evidenceItems.recordDownload(id: item.id, range: range, actor: auditor.actor(caller))
        let body = HTTPBody(
            chunks.map { ArraySlice($0.readableBytesView) }, length: .known(bytes.upperBound - bytes.lowerBound), iterationBehavior: .single)
        if let range {
            return .partialContent(
                .init(headers: .init(eTag: etag, contentRange: "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"), body: .binary(body))
            )
        }
        return .ok(.init(headers: .init(eTag: etag, acceptRanges: "bytes"), body: .binary(body)))
    }

    func handOverEvidenceItem(_ input: Operations.HandOverEvidenceItem.Input) async throws -> Operations.HandOverEvidenceItem.Output {
        let caller = try Caller.required()
        // It writes the chain of custody, which names the person.
        _ = try RequestInfo.requiredPerson()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        let problems = [
            TextRules.problem(body.receivedBy, at: "/received_by", maximum: 200, required: true),
            TextRules.problem(body.notes, at: "/notes", maximum: 2000),
        ].compactMap { $0 }
        guard problems.isEmpty else { throw ValidationError(problems) }
        let (item, task, view) = try await visibleItem(input.path.id, caller: caller)
        guard !EvidenceRules.sides(of: view.parties(task), for: caller).isEmpty else {
            throw Forbidden("Only the holder's or the requester's staff record a hand-over.")
        }
        let event = try await evidenceItems.recordHandover(id: item.id, receivedBy: body.receivedBy, notes: body.notes, actor: auditor.actor(caller))
        return .created(.init(body: .json(.init(event))))
    }

    func listCustodyEvents(_ input: Operations.ListCustodyEvents.Input) async throws -> Operations.ListCustodyEvents.Output {
        let caller = try Caller.required()
        let page = try PageRequest(limit: input.query.limit.map(Int.init), cursor: input.query.cursor)
        let (item, _, _) = try await visibleItem(input.path.id, caller: caller)
        let result = try await evidenceItems.custody(itemID: item.id, page: page)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.CustodyEvent.init), nextCursor: result.nextCursor?.encoded))))
    }

    /// The item with `id` and its task, if `caller` may see the task; else the 404 of an item that does not exist.
    private func visibleItem(_ id: String, caller: Principal) async throws -> (EvidenceItem, EvidenceTask, EvidenceView) {
        guard let id = UUID(uuidString: id), let (item, task) = try await evidenceItems.get(id: id) else { throw Problem.notFound() }
        let view = try await EvidenceView(caller: caller, store: evidence)
        guard EvidenceRules.maySee(view.parties(task), caller: caller) else { throw Problem.notFound() }
        return (item, task, view)
    }
}

extension Problem {
    /// 422: uploaded content is not what was registered; nothing was kept.
    static func contentMismatch(_ detail: String) -> Problem {
        Problem(
            status: .unprocessableContent, slug: "content-mismatch", title: "The content is not the registered file",
            detail: detail + " Nothing was kept.")
    }

    /// 416: the range starts beyond the end of a file of `size` bytes.
    static func rangeNotSatisfiable(size: Int64) -> Problem {
        var headers = HTTPFields()
        headers[.contentRange] = "bytes */\(size)"
        return Problem(
            status: .rangeNotSatisfiable, slug: "range-not-satisfiable", title: "Range not satisfiable",
            detail: "The file is \(size) bytes; ask for a range within it.", headers: headers
        )
    }
}

extension EvidenceContentStore.Mismatch {
    /// A short reason for the audit log.
    var reason: String {
        switch self {
        case .size: "size"
        case .sha256: "sha256"
        case .interrupted: "interrupted"
        }
    }

    /// What the client is told.
    var detail: String {
        switch self {
        case .size(let expected, let received): "The body ran to \(received) bytes; the item was registered as \(expected)."
        case .sha256(let expected, let received): "The body's SHA-256 is \(received); the item was registered with \(expected)."
        case .interrupted(let received): "The upload broke off after \(received) bytes; nothing was kept. Upload it again."
        }
    }
}

extension Components.Schemas.EvidenceItem {
    init(_ item: EvidenceItem) {
        let draft = item.draft
        self.init(
            id: item.id.uuidString.lowercased(), taskId: item.taskID.uuidString.lowercased(), cameraId: draft.cameraID?.uuidString.lowercased(),
            exhibitRef: draft.exhibitRef, fileName: draft.fileName, format: draft.format, sizeBytes: draft.sizeBytes, sha256: draft.sha256,
            recordedFrom: draft.recordedFrom, recordedTo: draft.recordedTo, clockOffsetS: draft.clockOffsetSeconds,
            recordedFromCorrected: draft.correctedPeriod?.from, recordedToCorrected: draft.correctedPeriod?.to, formatListed: item.formatListed,
            status: .init(rawValue: item.status.rawValue) ?? .registered, exportedAt: item.exportedAt, collectedAt: item.collectedAt,
            createdAt: item.createdAt, updatedAt: item.updatedAt, version: item.version
        )
    }
}

extension Components.Schemas.CustodyEvent {
    init(_ event: CustodyEvent) {
        self.init(
            id: String(event.id), itemId: event.itemID.uuidString.lowercased(), event: .init(rawValue: event.event.rawValue) ?? .exported,
            organisationId: event.organisationID?.uuidString.lowercased(), person: event.person.map { .init(number: $0.number, name: $0.name) },
            keyPrefix: event.keyPrefix, clientAddress: event.clientAddress,
            occurredAt: event.occurredAt, notes: event.notes, detail: event.detail.isEmpty ? nil : .init(additionalProperties: event.detail)
        )
    }
}
