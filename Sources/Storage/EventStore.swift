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
    /// About something covert: shown only to keys with covert access.
    public var covert: Bool
    /// Its place in the log a partner walks: its transaction's id, then its position.
    var logKey: [String]
}

/// The outbox of events: written by the stores in the transaction of each change, read by partners.
public struct EventStore: Sendable {
    private let database: Database

    /// A store over `database`.
    public init(_ database: Database) { self.database = database }

    /// One page of the events `organisationID` may hear of, oldest first; covert ones only if
    /// `includeCovert` (the caller may know of covert cameras).
    ///
    /// A walk with `next_cursor` sees every event exactly once: only events whose transaction is older than
    /// every transaction still running are shown, in (transaction, position) order, so nothing committed later
    /// can sort before an event already shown (migration 0014 explains why position alone skips events).
    public func list(for organisationID: UUID, includeCovert: Bool, page: PageRequest) async throws -> (items: [StoredEvent], next: Cursor) {
        var after: (xact: String?, position: Int)?
        switch page.cursor?.key {
        case nil: break
        case let key? where key.count == 2 && UInt64(key[0]) != nil && Int(key[1]) != nil:
            after = (key[0], Int(key[1])!)
        case let key? where key.count == 1 && Int(key[0]) != nil:
            // A cursor issued before migration 0014 names a position only: resume after that event's place.
            after = (nil, Int(key[0])!)
        default:
            throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")])
        }
        let rows = try await database.withConnection { connection in
            try await connection.query(
                """
                WITH cursor AS (
                    SELECT coalesce($3::xid8, (SELECT xact FROM events WHERE position <= $4 ORDER BY position DESC LIMIT 1), '0'::xid8) AS xact,
                           $4::bigint AS position
                )
                SELECT e.position, e.id, e.type, e.subject, e.sequence, e.payload, e.created_at, e.xact::text, e.covert
                FROM events e LEFT JOIN cursor c ON $4::bigint IS NOT NULL
                WHERE e.xact < pg_snapshot_xmin(pg_current_snapshot())
                  AND e.audience @> ARRAY[$1::uuid] AND (NOT e.covert OR $2)
                  AND (c.position IS NULL OR (e.xact, e.position) > (c.xact, c.position))
                ORDER BY e.xact, e.position
                LIMIT $5
                """,
                organisationID, includeCovert, after?.xact, after?.position, page.limit + 1
            )
        }
        let result = Page(fetched: try rows.map(StoredEvent.init(row:)), limit: page.limit, key: \.logKey)
        // Always a cursor: after the last page it marks where to poll from next.
        return (result.items, result.nextCursor ?? result.items.last.map { Cursor(key: $0.logKey) } ?? page.cursor ?? Cursor(key: ["0", "0"]))
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
            sequence: Int(try row.decode(4, as: Int32.self)), payloadJSON: try row.decode(5, as: PostgresJSON.self).text,
            createdAt: try row.decode(6), covert: try row.decode(8), logKey: [try row.decode(7), String(try row.decode(0, as: Int.self))]
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
