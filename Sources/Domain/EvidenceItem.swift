import Foundation

/// Where an exported file is in its life.
public enum EvidenceItemStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Registered by the holder; its content may be uploaded.
    case registered
    /// Its content is stored and may be downloaded.
    case available
    /// The requester has it.
    case collected
    /// Its stored content was deleted after the retention period; metadata, hash and custody trail remain.
    case purged
}

/// What a holder says about an exported file when registering it.
public struct EvidenceItemDraft: Sendable, Hashable {
    /// The largest file a holder may register: 1 TiB.
    public static let maximumSize: Int64 = 1 << 40

    public var cameraID: UUID?
    /// The exhibit reference, unique within the task.
    public var exhibitRef: String
    public var fileName: String
    public var format: String
    public var sizeBytes: Int64
    /// SHA-256 of the file, 64 lower-case hexadecimal digits.
    public var sha256: String
    public var recordedFrom: Date
    public var recordedTo: Date
    /// The recorder's clock minus true time, in seconds, when it was measured.
    public var clockOffsetSeconds: Int?

    /// A draft from its parts; the hash is kept in lower case.
    public init(
        cameraID: UUID?, exhibitRef: String, fileName: String, format: String, sizeBytes: Int64, sha256: String, recordedFrom: Date,
        recordedTo: Date, clockOffsetSeconds: Int?
    ) {
        self.cameraID = cameraID
        self.exhibitRef = exhibitRef
        self.fileName = fileName
        self.format = format
        self.sizeBytes = sizeBytes
        self.sha256 = sha256.lowercased()
        self.recordedFrom = recordedFrom
        self.recordedTo = recordedTo
        self.clockOffsetSeconds = clockOffsetSeconds
    }

    /// The longest clock offset an item may record, either way.
    public static let maximumClockOffset = 24 * 3600

    /// The recorded period in true time: as the recorder's clock showed it, corrected by the offset; `nil` when
    /// the offset was not measured.
    public var correctedPeriod: (from: Date, to: Date)? {
        clockOffsetSeconds.map { offset in
            (recordedFrom.addingTimeInterval(-TimeInterval(offset)), recordedTo.addingTimeInterval(-TimeInterval(offset)))
        }
    }

    /// Every rule an item must keep, each broken one listed with its field; `taskCameras` are the cameras of
    /// the task it belongs to, and `window` the request's: the recorded period (in true time when the offset is
    /// known) must overlap it.
    public func validate(taskCameras: Set<UUID>, window: (from: Date, to: Date)) throws(ValidationError) {
        var problems: [FieldProblem] = []
        for (text, pointer, maximum) in [(exhibitRef, "/exhibit_ref", 100), (fileName, "/file_name", 255), (format, "/format", 50)] {
            if let problem = TextRules.problem(text, at: pointer, maximum: maximum, required: true) { problems.append(problem) }
        }
        if fileName.contains("/") || fileName.contains("\\") {
            problems.append(.init(pointer: "/file_name", detail: "must be a file name, not a path"))
        }
        if !(0...Self.maximumSize).contains(sizeBytes) { problems.append(.init(pointer: "/size_bytes", detail: "must be from 0 to 1 TiB")) }
        if sha256.utf8.count != 64 || !sha256.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) {
            problems.append(.init(pointer: "/sha256", detail: "must be 64 hexadecimal digits"))
        }
        if let clockOffsetSeconds, abs(clockOffsetSeconds) > Self.maximumClockOffset {
            problems.append(.init(pointer: "/clock_offset_s", detail: "must be within a day (86400 seconds) either way"))
        }
        if recordedTo < recordedFrom {
            problems.append(.init(pointer: "/recorded_to", detail: "must not be before recorded_from"))
        } else if problems.allSatisfy({ $0.pointer != "/clock_offset_s" }) {
            let period = correctedPeriod ?? (recordedFrom, recordedTo)
            if period.to < window.from || period.from > window.to {
                let corrected = clockOffsetSeconds == nil ? "" : " (corrected by clock_offset_s)"
                problems.append(
                    .init(
                        pointer: "/recorded_from",
                        detail: "the recorded period\(corrected) must overlap the request's window, \(window.from.rfc3339) to \(window.to.rfc3339)"
                    ))
            }
        }
        if let cameraID, !taskCameras.contains(cameraID) { problems.append(.init(pointer: "/camera_id", detail: "is not a camera of this task")) }
        guard problems.isEmpty else { throw ValidationError(problems) }
    }
}

/// An item as stored.
public struct EvidenceItem: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var taskID: UUID
    public var draft: EvidenceItemDraft
    public var status: EvidenceItemStatus
    public var exportedAt: Date
    public var collectedAt: Date?
    /// The stored content's file name, while there is one.
    public var contentPath: String?
    /// Whether the holding room lists the item's format among its export formats: `false` flags a format the
    /// room does not export (a mistyped format, or a room record out of date); `nil` when the room lists none.
    public var formatListed: Bool?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    /// An item from its parts.
    public init(
        id: UUID, taskID: UUID, draft: EvidenceItemDraft, status: EvidenceItemStatus, exportedAt: Date, collectedAt: Date?, contentPath: String?,
        formatListed: Bool? = nil, createdAt: Date, updatedAt: Date, version: Int
    ) {
        self.id = id
        self.taskID = taskID
        self.draft = draft
        self.status = status
        self.exportedAt = exportedAt
        self.collectedAt = collectedAt
        self.contentPath = contentPath
        self.formatListed = formatListed
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

/// A step in an item's chain of custody.
public enum CustodyEventKind: String, Sendable, Hashable, CaseIterable, Codable {
    case exported, uploaded, downloaded
    case handedOver = "handed_over"
    case collected, purged
}

/// One entry of an item's chain of custody, as stored (append-only).
public struct CustodyEvent: Sendable, Hashable {
    public var id: Int
    public var itemID: UUID
    public var event: CustodyEventKind
    /// Who: the organisation and key prefix (none for the scheduler).
    public var organisationID: UUID?
    public var keyPrefix: String?
    public var clientAddress: String?
    public var occurredAt: Date
    public var notes: String?
    public var detail: [String: String]
    /// The person who did it (none for the scheduler, and for events recorded before people were named).
    public var person: NamedPerson?

    /// An event from its parts.
    public init(
        id: Int, itemID: UUID, event: CustodyEventKind, organisationID: UUID?, keyPrefix: String?, clientAddress: String?, occurredAt: Date,
        notes: String?, detail: [String: String], person: NamedPerson? = nil
    ) {
        self.id = id
        self.itemID = itemID
        self.event = event
        self.organisationID = organisationID
        self.keyPrefix = keyPrefix
        self.clientAddress = clientAddress
        self.occurredAt = occurredAt
        self.notes = notes
        self.detail = detail
        self.person = person
    }
}

/// The part of a file a `Range` header asks for (RFC 9110 §14): one range of bytes, or the whole file.
public enum ByteRangeRequest: Sendable, Hashable {
    /// The whole file: no `Range`, one that is not about bytes or not understood, or several ranges (which RFC
    /// 9110 lets a server answer with the whole representation).
    case whole
    /// Bytes `lowerBound..<upperBound` of the file.
    case partial(Range<Int64>)
    /// A range that starts beyond the end (416).
    case unsatisfiable

    /// The range `header` asks of a file of `size` bytes.
    public init(header: String?, size: Int64) {
        guard let header, header.hasPrefix("bytes=") else {
            self = .whole
            return
        }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else {
            self = .whole
            return
        }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        let digits: (String) -> Bool = { !$0.isEmpty && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }
        if first.isEmpty {
            // A suffix: the last `last` bytes.
            guard digits(last), let suffix = Int64(last) else {
                self = .whole
                return
            }
            guard suffix > 0, size > 0 else {
                self = .unsatisfiable
                return
            }
            self = .partial(max(0, size - suffix)..<size)
            return
        }
        guard digits(first), let start = Int64(first) else {
            self = .whole
            return
        }
        var end = size - 1
        if !last.isEmpty {
            guard digits(last), let given = Int64(last), given >= start else {
                self = .whole
                return
            }
            end = min(given, size - 1)
        }
        guard start < size else {
            self = .unsatisfiable
            return
        }
        self = .partial(start..<(end + 1))
    }
}
