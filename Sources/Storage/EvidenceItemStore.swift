import Domain
import Foundation
import LibPQ

/// Exported files and their chain of custody (DESIGN §4.1 step 8).
public struct EvidenceItemStore: Sendable {
    private let database: Database
    private var clock: any WallClock { database.clock }

    /// A store over `database`, reading the time from its clock.
    public init(_ database: Database) { self.database = database }

    static let columns = """
        i.id, i.task_id, i.camera_id, i.exhibit_ref, i.file_name, i.format, i.size_bytes, i.sha256, i.recorded_from, i.recorded_to,
        i.clock_offset_s, i.status, i.exported_at, i.collected_at, i.content_path, i.created_at, i.updated_at, i.version, i.format_listed
        """

    /// Registers an exported file of an acknowledged task; its `exported` custody event, the camera's outcome
    /// and the audit row commit with it. `nil` if there is no such task; `StateConflict` if the task is not
    /// acknowledged or the exhibit reference is taken within it.
    public func register(taskID: UUID, draft: EvidenceItemDraft, keyID: UUID?, actor: AuditActor) async throws -> EvidenceItem? {
        let now = clock.now()
        return try await database.withTransaction { connection in
            guard let row = try await connection.query("SELECT status FROM evidence_tasks WHERE id = $1 FOR UPDATE", taskID).first else { return nil }
            let status: String = try row.decode(0)
            guard status == EvidenceTaskStatus.acknowledged.rawValue else {
                throw StateConflict("Items are registered on an acknowledged task; this one is \(status).")
            }
            let taken = try await connection.query("SELECT 1 FROM evidence_items WHERE task_id = $1 AND exhibit_ref = $2", taskID, draft.exhibitRef)
            guard taken.isEmpty else { throw StateConflict("The exhibit reference \(draft.exhibitRef) is registered in this task already.") }
            let id: UUID = try await connection.query(
                """
                INSERT INTO evidence_items (task_id, camera_id, exhibit_ref, file_name, format, size_bytes, sha256, recorded_from, recorded_to,
                                            clock_offset_s, exported_by, exported_at, created_at, updated_at, format_listed)
                SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12,
                       -- The holding room's export formats, when it lists any: a format outside them is flagged.
                       (SELECT CASE WHEN cardinality(r.export_formats) = 0 THEN NULL
                                    ELSE lower($5) = ANY (SELECT lower(f) FROM unnest(r.export_formats) AS f) END
                        FROM evidence_tasks t JOIN control_rooms r ON r.id = t.control_room_id WHERE t.id = $1)
                RETURNING id
                """,
                taskID, draft.cameraID, draft.exhibitRef, draft.fileName, draft.format, draft.sizeBytes, draft.sha256, draft.recordedFrom,
                draft.recordedTo, draft.clockOffsetSeconds, keyID, now
            )[0].decode(0)
            if let camera = draft.cameraID {
                try await connection.query(
                    "UPDATE evidence_task_cameras SET outcome = 'exported' WHERE task_id = $1 AND camera_id = $2", taskID, camera)
            }
            try await connection.appendCustody(
                id, .exported, actor: actor, notes: nil, detail: ["sha256": draft.sha256, "size_bytes": String(draft.sizeBytes)]
            )
            try await connection.recordAudit(
                actor.event(
                    "evidence_item.register", .success, entityType: "evidence_item", entityID: id.uuidString.lowercased(),
                    detail: ["task_id": .id(taskID), "exhibit_ref": .string(draft.exhibitRef)])
            )
            return try await Self.get(id, on: connection)
        }
    }

    /// The item with `id` and its task, or `nil`.
    public func get(id: UUID) async throws -> (item: EvidenceItem, task: EvidenceTask)? {
        try await database.withConnection { connection in
            guard
                let item = try await connection.query("SELECT " + Self.columns + " FROM evidence_items i WHERE i.id = $1", id).first
                    .map(EvidenceItem.init(row:)),
                let task = try await EvidenceStore.tasks(.id(item.taskID), on: connection).first
            else { return nil }
            return (item, task)
        }
    }

    /// The items of `taskID`, in the order registered.
    public func items(taskID: UUID) async throws -> [EvidenceItem] {
        try await database.withConnection { connection in
            try await connection.query("SELECT " + Self.columns + " FROM evidence_items i WHERE i.task_id = $1 ORDER BY i.created_at, i.id", taskID)
                .map(EvidenceItem.init(row:))
        }
    }

    /// Marks an item's content as stored under `contentName` if it has none yet, running `place` (which moves
    /// the staged file into place) before the commit; its `uploaded` custody event and audit row commit with
    /// it. `nil` if there is no such item; `StateConflict` if content was uploaded already (a master exhibit is
    /// written once).
    public func completeUpload(
        id: UUID, contentName: String, actor: AuditActor, place: @Sendable () async throws -> Void
    ) async throws -> EvidenceItem? {
        let now = clock.now()
        return try await database.withTransaction { connection in
            guard let row = try await connection.query("SELECT status, sha256, size_bytes FROM evidence_items WHERE id = $1 FOR UPDATE", id).first
            else {
                return nil
            }
            let status: String = try row.decode(0)
            guard status == EvidenceItemStatus.registered.rawValue else {
                throw StateConflict("The item's content was uploaded already; a master exhibit is written once.")
            }
            try await connection.query(
                "UPDATE evidence_items SET status = 'available', content_path = $2, updated_at = $3, version = version + 1 WHERE id = $1",
                id, contentName, now
            )
            try await connection.appendCustody(
                id, .uploaded, actor: actor, notes: nil,
                detail: ["sha256": try row.decode(1), "size_bytes": String(try row.decode(2, as: Int64.self))]
            )
            try await connection.recordAudit(
                actor.event("evidence_item.upload", .success, entityType: "evidence_item", entityID: id.uuidString.lowercased()))
            try await place()
            return try await Self.get(id, on: connection)
        }
    }

    /// Records a download of `range` (nil: the whole file) as a custody event and an audit row.
    public func recordDownload(id: UUID, range: Range<Int64>?, actor: AuditActor) async throws {
        try await database.withTransaction { connection in
            let detail = range.map { ["range": "bytes=\($0.lowerBound)-\($0.upperBound - 1)"] } ?? [:]
            try await connection.appendCustody(id, .downloaded, actor: actor, notes: nil, detail: detail)
            try await connection.recordAudit(
                actor.event(
                    "evidence_item.download", .success, entityType: "evidence_item", entityID: id.uuidString.lowercased(),
                    detail: detail.mapValues(JSONValue.string))
            )
        }
    }

    /// Records a physical hand-over to `receivedBy`; returns its custody event.
    public func recordHandover(id: UUID, receivedBy: String, notes: String?, actor: AuditActor) async throws -> CustodyEvent {
        try await database.withTransaction { connection in
            let event = try await connection.appendCustody(id, .handedOver, actor: actor, notes: notes, detail: ["received_by": receivedBy])
            try await connection.recordAudit(
                actor.event("evidence_item.handover", .success, entityType: "evidence_item", entityID: id.uuidString.lowercased())
            )
            return event
        }
    }

    /// One page of an item's custody events, oldest first.
    public func custody(itemID: UUID, page: PageRequest) async throws -> Page<CustodyEvent> {
        let after = page.cursor?.key
        guard after == nil || (after?.count == 1 && Int(after![0]) != nil) else {
            throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")])
        }
        let rows = try await database.withConnection { connection in
            try await connection.query(
                "SELECT " + PostgresConnection.custodyColumns
                    + " FROM custody_events WHERE item_id = $1 AND ($2::bigint IS NULL OR id > $2) ORDER BY id LIMIT $3",
                itemID, after.flatMap { Int($0[0]) }, page.limit + 1
            )
        }
        return Page(fetched: try rows.map(CustodyEvent.init(row:)), limit: page.limit) { [String($0.id)] }
    }

    /// Items whose content was collected before `cutoff` and is still stored, oldest first, at most `limit`;
    /// `remove` deletes each one's file before its row says `purged` (with a `purged` custody event). Rows
    /// another instance is purging are skipped. Returns how many were purged.
    public func purge(collectedBefore cutoff: Date, limit: Int, remove: @Sendable (String) async throws -> Void) async throws -> Int {
        let now = clock.now()
        return try await database.withTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT id, content_path FROM evidence_items
                WHERE content_path IS NOT NULL AND collected_at < $1
                ORDER BY collected_at LIMIT $2 FOR UPDATE SKIP LOCKED
                """,
                cutoff, limit
            )
            for row in rows {
                let id: UUID = try row.decode(0)
                try await remove(try row.decode(1))
                try await connection.query(
                    "UPDATE evidence_items SET status = 'purged', content_path = NULL, updated_at = $2, version = version + 1 WHERE id = $1", id, now
                )
                try await connection.appendCustody(id, .purged, actor: .scheduler, notes: nil)
            }
            return rows.count
        }
    }

    private static func get(_ id: UUID, on connection: PostgresConnection) async throws -> EvidenceItem {
        try EvidenceItem(row: try await connection.query("SELECT " + columns + " FROM evidence_items i WHERE i.id = $1", id)[0])
    }
}

extension PostgresConnection {
    static let custodyColumns =
        "id, item_id, event, organisation_id, key_prefix, client_address, occurred_at, notes, detail, person_number, person_name"

    /// Appends a custody event to `item` as part of the transaction this connection is in.
    @discardableResult
    func appendCustody(
        _ item: UUID, _ event: CustodyEventKind, actor: AuditActor, notes: String?, detail: [String: String] = [:]
    ) async throws -> CustodyEvent {
        try CustodyEvent(
            row: try await query(
                """
                INSERT INTO custody_events (item_id, event, organisation_id, key_prefix, client_address, notes, detail, person_number, person_name)
                VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) RETURNING
                """ + " " + Self.custodyColumns,
                item, event.rawValue, actor.organisationID, actor.keyPrefix, actor.clientAddress, notes, detail.mapValues(JSONValue.string).jsonText,
                actor.person?.number, actor.person?.name
            )[0]
        )
    }
}

extension CustodyEvent {
    init(row: PostgresRow) throws {
        guard let event = CustodyEventKind(rawValue: try row.decode(2)) else { throw StoredValueError(column: "custody_events.event") }
        let detail = try JSONDecoder().decode([String: String].self, from: Data(try row.decode(8, as: PostgresJSON.self).text.utf8))
        let number: String? = try row.decode(9)
        let name: String? = try row.decode(10)
        self.init(
            id: try row.decode(0), itemID: try row.decode(1), event: event, organisationID: try row.decode(3), keyPrefix: try row.decode(4),
            clientAddress: try row.decode(5), occurredAt: try row.decode(6), notes: try row.decode(7), detail: detail,
            person: number.flatMap { number in name.map { NamedPerson(number: number, name: $0) } }
        )
    }
}

extension EvidenceItem {
    init(row: PostgresRow) throws {
        guard let status = EvidenceItemStatus(rawValue: try row.decode(11)) else { throw StoredValueError(column: "evidence_items.status") }
        self.init(
            id: try row.decode(0), taskID: try row.decode(1),
            draft: EvidenceItemDraft(
                cameraID: try row.decode(2), exhibitRef: try row.decode(3), fileName: try row.decode(4), format: try row.decode(5),
                sizeBytes: try row.decode(6), sha256: try row.decode(7), recordedFrom: try row.decode(8), recordedTo: try row.decode(9),
                clockOffsetSeconds: try row.decode(10)
            ),
            status: status, exportedAt: try row.decode(12), collectedAt: try row.decode(13), contentPath: try row.decode(14),
            formatListed: try row.decode(18), createdAt: try row.decode(15), updatedAt: try row.decode(16), version: try row.decode(17)
        )
    }
}
