import Domain
import Foundation
import OpenAPIRuntime
import Storage

/// `/v1/cameras`.
extension SightlineAPI {
    func createCamera(_ input: Operations.CreateCamera.Input) async throws -> Operations.CreateCamera.Output {
        let caller = try Caller.required()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        var collector = ProblemCollector()
        let requestedOwner = collector.attempt { () throws(ValidationError) in try RequestParsing.uuid(body.ownerOrgId, pointer: "/owner_org_id") }
        let draft = collector.attempt { () throws(ValidationError) in try CameraDraft(body) }
        try collector.check()
        guard let draft else { throw Problem.malformedBody("The body could not be read.") }
        try draft.validate()
        let owner = try RegistryRules.owner(requested: requestedOwner, caller: caller)
        guard try await organisations.get(id: owner) != nil else {
            throw ValidationError([.init(pointer: "/owner_org_id", detail: "is not an organisation")])
        }
        if draft.covert { try RegistryRules.checkCovert(ownerOrganisationID: owner, by: caller) }
        let camera = try await cameras.create(ownerOrganisationID: owner, draft: draft, actor: auditor.actor(caller))
        return .created(.init(headers: .init(eTag: Preconditions.etag(version: camera.version)), body: .json(.init(camera))))
    }

    func getCamera(_ input: Operations.GetCamera.Input) async throws -> Operations.GetCamera.Output {
        let caller = try Caller.required()
        // A malformed id, a missing camera and a covert one the caller may not know of get the same answer.
        let camera = try await found(input.path.id) { id in try await cameras.get(id: id, visibility: CovertVisibility(for: caller)) }
        try await auditCovertRead(cameras: [camera].filter(\.draft.covert).map(\.id), caller: caller, via: "camera")
        return .ok(.init(headers: .init(eTag: Preconditions.etag(version: camera.version)), body: .json(.init(camera))))
    }

    func listCameras(_ input: Operations.ListCameras.Input) async throws -> Operations.ListCameras.Output {
        let caller = try Caller.required()
        let query = input.query
        var collector = ProblemCollector()
        let page = collector.attempt { () throws(ValidationError) in try PageRequest(limit: query.limit.map(Int.init), cursor: query.cursor) }
        let filter = Self.cameraFilter(
            owner: query.ownerOrgId, room: query.controlRoomId, borough: query.borough, kind: query.kind?.rawValue, status: query.status?.rawValue,
            near: query.near, radius: query.radiusM, bbox: query.bbox, collector: &collector
        )
        try collector.check()
        guard let page else { throw Problem.malformedBody("The query could not be read.") }
        let result = try await cameras.list(filter, visibility: CovertVisibility(for: caller), page: page)
        try await auditCovertRead(cameras: result.items.filter(\.draft.covert).map(\.id), caller: caller, via: "camera_list")
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.Camera.init), nextCursor: result.nextCursor?.encoded))))
    }

    func updateCamera(_ input: Operations.UpdateCamera.Input) async throws -> Operations.UpdateCamera.Output {
        let caller = try Caller.required()
        let patch: OpenAPIObjectContainer
        switch input.body {
        case .applicationMergePatchJson(let body), .json(let body): patch = body.additionalProperties
        }
        let camera = try await change(cameraID: input.path.id, ifMatch: input.headers.ifMatch, caller: caller) { current throws in
            try MergePatch.apply(try RequestParsing.patch(patch), to: current, allowed: CameraDraft.patchableFields)
        }
        return .ok(.init(headers: .init(eTag: Preconditions.etag(version: camera.version)), body: .json(.init(camera))))
    }

    func decommissionCamera(_ input: Operations.DecommissionCamera.Input) async throws -> Operations.DecommissionCamera.Output {
        let caller = try Caller.required()
        var date: Day?
        if case .json(let body) = input.body { date = try Day.parse(body.decommissionedOn, at: "/decommissioned_on") }
        let camera = try await change(cameraID: input.path.id, ifMatch: input.headers.ifMatch, caller: caller) { current in
            try current.decommissioned(on: date ?? Day(clock.now()))
        }
        return .ok(.init(headers: .init(eTag: Preconditions.etag(version: camera.version)), body: .json(.init(camera))))
    }

    /// The one path of every change to a camera: find it (404 if the caller may not know of it), check the
    /// caller may change it and `If-Match`, apply `edit`, validate, and store it if it has not changed meanwhile.
    private func change(
        cameraID: String, ifMatch: String?, caller: Principal, edit: (CameraDraft) throws -> CameraDraft
    ) async throws -> Camera {
        let visibility = CovertVisibility(for: caller)
        guard let id = UUID(uuidString: cameraID), let current = try await cameras.get(id: id, visibility: visibility) else {
            throw Problem.notFound()
        }
        try RegistryRules.checkWrite(to: current.ownerOrganisationID, by: caller)
        try Preconditions.check(ifMatch: ifMatch, currentVersion: current.version)
        let draft = try edit(current.draft).rederivingBorough(from: current.draft)
        try draft.validate()
        if draft.covert { try RegistryRules.checkCovert(ownerOrganisationID: current.ownerOrganisationID, by: caller) }
        guard
            let changed = try await cameras.update(
                id: id, draft: draft, expectedVersion: current.version, visibility: visibility, actor: auditor.actor(caller)
            )
        else { throw Problem.notFound() }
        return changed
    }

    /// The filter that the list's and the export's query parameters describe; problems go to `collector`.
    static func cameraFilter(
        owner: String?, room: String?, borough: String?, kind: String?, status: String?, near: String?, radius: Double?, bbox: String?,
        collector: inout ProblemCollector
    ) -> CameraFilter {
        CameraFilter(
            ownerOrganisationID: collector.attempt { () throws(ValidationError) in try RequestParsing.uuid(owner, parameter: "owner_org_id") },
            controlRoomID: collector.attempt { () throws(ValidationError) in try RequestParsing.uuid(room, parameter: "control_room_id") },
            boroughGSS: collector.attempt { () throws(ValidationError) in try RequestParsing.gssCode(borough, parameter: "borough") },
            kind: kind.flatMap(CameraKind.init(rawValue:)), status: status.flatMap(CameraStatus.init(rawValue:)),
            near: collector.attempt { () throws(ValidationError) in try NearSearch.parse(near: near, radiusMetres: radius) },
            bbox: collector.attempt { () throws(ValidationError) in try BoundingBox.parse(bbox) }
        )
    }
}

extension CameraDraft {
    init(_ body: Components.Schemas.CameraCreate) throws(ValidationError) {
        var collector = ProblemCollector()
        let room = collector.attempt { () throws(ValidationError) in try RequestParsing.uuid(body.controlRoomId, pointer: "/control_room_id") }
        let commissioned = collector.attempt { () throws(ValidationError) in try Day.parse(body.commissionedOn, at: "/commissioned_on") }
        let decommissioned = collector.attempt { () throws(ValidationError) in
            try Day.parse(body.decommissionedOn, at: "/decommissioned_on")
        }
        let replaced = collector.attempt { () throws(ValidationError) in try Day.parse(body.lastReplacedOn, at: "/last_replaced_on") }
        try collector.check()
        guard let kind = CameraKind(rawValue: body.kind.rawValue) else {
            throw ValidationError([.init(pointer: "/kind", detail: "is not a camera kind")])
        }
        self.init(
            controlRoomID: room, externalRef: body.externalRef, kind: kind, location: Location(lat: body.location.lat, lon: body.location.lon),
            boroughGSS: body.boroughGss, headingDeg: body.headingDeg, fieldOfViewDeg: body.fieldOfViewDeg,
            maxDORI: body.maxDori.flatMap { DORI(rawValue: $0.rawValue) }, retentionDays: body.retentionDays,
            status: body.status.flatMap { CameraStatus(rawValue: $0.rawValue) } ?? .operational, commissionedOn: commissioned,
            decommissionedOn: decommissioned, lastReplacedOn: replaced, condition: body.condition, publicSpace: body.publicSpace ?? true,
            covert: body.covert ?? false
        )
    }
}

extension Components.Schemas.Camera {
    init(_ camera: Camera) {
        let draft = camera.draft
        self.init(
            id: camera.id.uuidString.lowercased(), ownerOrgId: camera.ownerOrganisationID.uuidString.lowercased(),
            controlRoomId: draft.controlRoomID?.uuidString.lowercased(), externalRef: draft.externalRef,
            kind: Components.Schemas.CameraKind(rawValue: draft.kind.rawValue) ?? .other, location: .init(draft.location),
            boroughGss: draft.boroughGSS, boroughMismatch: camera.boroughMismatch, headingDeg: draft.headingDeg,
            fieldOfViewDeg: draft.fieldOfViewDeg, maxDori: draft.maxDORI.flatMap { Components.Schemas.Dori(rawValue: $0.rawValue) },
            retentionDays: draft.retentionDays, effectiveRetentionDays: camera.effectiveRetentionDays,
            status: Components.Schemas.CameraStatus(rawValue: draft.status.rawValue) ?? .operational,
            commissionedOn: draft.commissionedOn?.description, decommissionedOn: draft.decommissionedOn?.description,
            lastReplacedOn: draft.lastReplacedOn?.description, condition: draft.condition, publicSpace: draft.publicSpace,
            covert: draft.covert, createdAt: camera.createdAt, updatedAt: camera.updatedAt, version: camera.version,
            distanceM: camera.distanceMetres
        )
    }
}

extension Components.Schemas.Location {
    init(_ location: Location) { self.init(lat: location.lat, lon: location.lon) }
}

/// `/v1/cameras/export`.
extension SightlineAPI {
    func exportCameras(_ input: Operations.ExportCameras.Input) async throws -> Operations.ExportCameras.Output {
        let query = input.query
        var collector = ProblemCollector()
        let filter = Self.cameraFilter(
            owner: query.ownerOrgId, room: query.controlRoomId, borough: query.borough, kind: query.kind?.rawValue, status: query.status?.rawValue,
            near: nil, radius: nil, bbox: query.bbox, collector: &collector
        )
        try collector.check()
        let csv = query.format == .csv
        let body = HTTPBody(CameraExportStream(store: cameras, filter: filter, csv: csv), length: .unknown, iterationBehavior: .single)
        // Both formats leave through the generated CSV case, the only one that streams; `GeoJSONExportMiddleware`
        // gives GeoJSON its media type.
        return .ok(.init(body: .csv(body)))
    }
}

/// An export, page by page as the client reads it: one page of cameras in memory at a time, whatever the total.
/// Never includes covert cameras. Pages follow the id order, so a camera changed during the export appears once.
struct CameraExportStream: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>

    let store: CameraStore
    let filter: CameraFilter
    let csv: Bool

    func makeAsyncIterator() -> Iterator { Iterator(stream: self) }

    struct Iterator: AsyncIteratorProtocol {
        let stream: CameraExportStream
        var cursor: String?
        var started = false
        var finished = false
        var wroteFeature = false

        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard !finished else { return nil }
            var text = ""
            if !started {
                started = true
                text = stream.csv ? CameraExport.csvHeader : CameraExport.geoJSONPrefix
            }
            let page = try await stream.store.list(stream.filter, visibility: .none, page: try PageRequest(limit: 500, cursor: cursor))
            for camera in page.items {
                if stream.csv {
                    text += CameraExport.csvLine(camera)
                } else {
                    text += (wroteFeature ? "," : "") + CameraExport.geoJSONFeature(camera)
                    wroteFeature = true
                }
            }
            if let next = page.nextCursor {
                cursor = next.encoded
            } else {
                finished = true
                if !stream.csv { text += CameraExport.geoJSONSuffix }
            }
            return ArraySlice(text.utf8)
        }
    }
}

/// `/v1/cameras/import`.
extension SightlineAPI {
    func importCameras(_ input: Operations.ImportCameras.Input) async throws -> Operations.ImportCameras.Output {
        let caller = try Caller.required()
        let requested = try RequestParsing.uuid(input.query.ownerOrgId, parameter: "owner_org_id")
        let owner = try RegistryRules.owner(requested: requested, caller: caller)
        guard try await organisations.get(id: owner) != nil else {
            throw ValidationError([.init(parameter: "owner_org_id", detail: "is not an organisation")])
        }
        let rows: [CameraImport.Row]
        switch input.body {
        case .csv(let body):
            rows = try CameraImport.parseCSV(try await Data(collecting: body, upTo: CameraImport.maximumBytes))
        case .applicationGeoJson(let collection):
            rows = try CameraImport.parseGeoJSON(try JSONEncoder().encode(collection.additionalProperties))
        }
        if rows.contains(where: \.draft.covert) { try RegistryRules.checkCovert(ownerOrganisationID: owner, by: caller) }
        let imported = try await cameras.importCameras(ownerOrganisationID: owner, rows: rows, actor: auditor.actor(caller))
        return .created(.init(body: .json(.init(imported: imported))))
    }
}
