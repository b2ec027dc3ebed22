import Domain
import Foundation
import LibPQ

/// An event as stored in the outbox.
public struct StoredEvent: Sendable, Hashable {
    /// Its place in the outbox, rising with every event.
    public var position: Int
    /// Its id (the webhook id of its deliveries).
    public var id: UUID
    /// What it says.
    public var event: RegistryEvent
    /// When it was written.
    public var createdAt: Date
}

/// The outbox of events: written by the stores in the transaction of each change, read by partners.
public struct EventStore: Sendable {
    private let pool: PostgresPool

    /// A store over `pool`.
    public init(pool: PostgresPool) { self.pool = pool }

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
        let rows = try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT position, id, type, subject, sequence, audience, covert, payload, created_at
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
    /// Writes `event`, which happened at `time`, to the outbox as part of the transaction this connection is in.
    func appendEvent(_ event: RegistryEvent, at time: Date) async throws {
        try await query(
            "INSERT INTO events (type, subject, sequence, audience, covert, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)",
            event.type, event.subject, event.sequence, event.audience, event.covert, event.payloadJSON, time
        )
    }

    /// The ids of the police forces, every registry event's audience.
    func policeForces() async throws -> [UUID] {
        try await query("SELECT id FROM organisations WHERE kind = 'police' ORDER BY id").map { try $0.decode(0) }
    }
}

extension StoredEvent {
    init(row: PostgresRow) throws {
        self.init(
            position: try row.decode(0), id: try row.decode(1),
            event: RegistryEvent(
                type: try row.decode(2), subject: try row.decode(3), sequence: Int(try row.decode(4, as: Int32.self)),
                audience: try row.decode(5), covert: try row.decode(6), payloadJSON: try row.decode(7, as: PostgresJSON.self).text
            ),
            createdAt: try row.decode(8)
        )
    }
}

/// An event as one element of a bulk insert through `jsonb_to_recordset` (imports, evidence requests).
struct EventRecord: Encodable {
    let type: String
    let subject: String
    let sequence: Int
    let audience: [UUID]
    let covert: Bool
    let payload: EventPayload
}

/// An event's data: the subject's id and new version (a number), and whatever else a partner needs, as text.
struct EventPayload: Encodable {
    var id: UUID
    var version: Int
    var fields: [String: String] = [:]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(id.uuidString.lowercased(), forKey: Key(stringValue: "id"))
        try container.encode(version, forKey: Key(stringValue: "version"))
        for (name, value) in fields { try container.encode(value, forKey: Key(stringValue: name)) }
    }

    /// The payload as a JSON object's text.
    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings and an integer always encode.
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
