import Domain
import Foundation
import LibPQ

/// An event as the outbox holds it, for listing (older events may be of types this build no longer writes).
public struct StoredEvent: Sendable, Hashable {
    /// Its place in the outbox, rising with every event.
    public var position: Int
    /// Its id (the webhook id of its deliveries).
    public var id: UUID
    /// What happened, e.g. `camera.status_changed`.
    public var type: String
    /// What it happened to, `<kind>/<id>`.
    public var subject: String
    /// The subject's version after the change.
    public var sequence: Int
    /// Its data, as the JSON object's text.
    public var payloadJSON: String
    /// When it was written.
    public var createdAt: Date
}

/// The outbox of events: written by the stores in the transaction of each change, read by partners.
public struct EventStore: Sendable {
    private let database: Database

    /// A store over `database`.
    public init(_ database: Database) { self.database = database }

    /// One page of the events `organisationID` may hear of, oldest first; covert ones only if
    /// `includeCovert` (the caller may know of covert cameras).
    public func list(for organisationID: UUID, includeCovert: Bool, page: PageRequest) async throws -> Page<StoredEvent> {
        var after: Int?
        if let key = page.cursor?.key {
            guard key.count == 1, let position = Int(key[0]) else {
                throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")])
            }
            after = position
        }
        let rows = try await database.withConnection { connection in
            try await connection.query(
                """
                SELECT position, id, type, subject, sequence, payload, created_at
                FROM events
                WHERE audience @> ARRAY[$1::uuid] AND (NOT covert OR $2) AND ($3::bigint IS NULL OR position > $3)
                ORDER BY position
                LIMIT $4
                """,
                organisationID, includeCovert, after, page.limit + 1
            )
        }
        return Page(fetched: try rows.map(StoredEvent.init(row:)), limit: page.limit) { [String($0.position)] }
    }
}

extension PostgresConnection {
    /// Writes `events`, which happened at `time`, to the outbox as part of the transaction this connection is in:
    /// the one way an event is written, for one event or a thousand.
    func append(_ events: [DomainEvent], at time: Date) async throws {
        guard !events.isEmpty else { return }
        try await query(
            """
            INSERT INTO events (type, subject, sequence, audience, covert, payload, created_at)
            SELECT type, subject, sequence, audience, covert, payload, $2
            FROM jsonb_to_recordset($1::jsonb) AS e(type text, subject text, sequence int, audience uuid[], covert bool, payload jsonb)
            """,
            try DomainEvent.recordset(events), time
        )
    }

    /// Writes `event`, which happened at `time`, to the outbox as part of the transaction this connection is in.
    func append(_ event: DomainEvent, at time: Date) async throws { try await append([event], at: time) }

    /// The ids of the police forces, every registry event's audience.
    func policeForces() async throws -> [UUID] {
        try await query("SELECT id FROM organisations WHERE kind = 'police' ORDER BY id").map { try $0.decode(0) }
    }
}

extension StoredEvent {
    init(row: PostgresRow) throws {
        self.init(
            position: try row.decode(0), id: try row.decode(1), type: try row.decode(2), subject: try row.decode(3),
            sequence: Int(try row.decode(4, as: Int32.self)), payloadJSON: try row.decode(5, as: PostgresJSON.self).text, createdAt: try row.decode(6)
        )
    }
}

extension DomainEvent {
    /// `events` as the JSON array the outbox inserts read with `jsonb_to_recordset` (type text, subject text,
    /// sequence int, audience uuid[], covert bool, payload jsonb).
    static func recordset(_ events: [DomainEvent]) throws -> String {
        String(decoding: try JSONEncoder().encode(events.map(EventRecord.init)), as: UTF8.self)
    }
}

/// An event as one element of the outbox insert's `jsonb_to_recordset`.
private struct EventRecord: Encodable {
    let type: String
    let subject: String
    let sequence: Int
    let audience: [UUID]
    let covert: Bool
    let payload: JSONObject

    init(_ event: DomainEvent) {
        type = event.type.rawValue
        subject = event.subject
        sequence = event.sequence
        audience = event.audience
        covert = event.covert
        payload = event.payload
    }
}
