import Crypto
import Domain
import Foundation
import LibPQ

/// A row of the audit log as stored.
public struct AuditRecord: Sendable, Hashable {
    /// Its place in the chain, from 1.
    public var seq: Int
    /// When it was appended.
    public var occurredAt: Date
    /// What it records.
    public var event: AuditEvent
    /// SHA-256 over the previous hash and this row's canonical form, in hex.
    public var hash: String
}

/// The result of recomputing the hash chain.
public struct AuditVerification: Sendable, Hashable {
    /// Rows checked.
    public var checked: Int
    /// The first row whose link or hash is wrong, if any.
    public var firstBrokenSeq: Int?
    /// Why that row is wrong.
    public var reason: String?

    /// Whether every row checked out.
    public var isValid: Bool { firstBrokenSeq == nil }
}

/// The append-only, hash-chained audit log.
public struct AuditStore: Sendable {
    private let database: Database

    /// A store over `database`.
    public init(_ database: Database) { self.database = database }

    /// Records `event` on its own, for something that changed nothing else (a refused request, a read).
    public func record(_ event: AuditEvent) async throws {
        try await database.withConnection { connection in try await connection.recordAudit(event) }
    }

    /// Links pending rows into the chain, `batch` at a time, until none is left; returns how many it linked.
    @discardableResult
    public func chainPending(batch: Int = 1000) async throws -> Int {
        var total = 0
        while true {
            let chained: Int = try await database.withConnection { connection in
                Int(try await connection.query("SELECT audit_chain($1)", Int32(batch))[0].decode(0, as: Int32.self))
            }
            total += chained
            if chained < batch { return total }
        }
    }

    /// One page of the log, newest first: one organisation's rows, or every row when `organisationID` is nil.
    /// Rows recorded but not yet chained are chained first, so the page holds everything committed.
    public func list(organisationID: UUID?, action: String?, page: PageRequest) async throws -> Page<AuditRecord> {
        try await chainPending()
        var before: Int?
        if let key = page.cursor?.key {
            guard key.count == 1, let seq = Int(key[0]) else {
                throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")])
            }
            before = seq
        }
        let rows = try await database.withConnection { connection in
            try await connection.query(
                """
                SELECT seq, occurred_at, key_prefix, organisation_id, action, entity_type, entity_id, outcome, client_address,
                       request_id, detail, encode(hash, 'hex')
                FROM audit_log
                WHERE ($1::uuid IS NULL OR organisation_id = $1)
                  AND ($2::text IS NULL OR action = $2)
                  AND ($3::bigint IS NULL OR seq < $3)
                ORDER BY seq DESC
                LIMIT $4
                """,
                organisationID, action, before, page.limit + 1
            )
        }
        return Page(fetched: try rows.map(AuditRecord.init(row:)), limit: page.limit) { [String($0.seq)] }
    }

    /// Recomputes the chain from the first row, in batches, and names the first row that does not fit.
    public func verify() async throws -> AuditVerification {
        try await chainPending()
        var previousHash = [UInt8](repeating: 0, count: 32)
        var expectedSeq = 1
        var checked = 0
        while true {
            let rows = try await database.withConnection { connection in
                try await connection.query(
                    """
                    SELECT seq, prev_hash, hash,
                           audit_canonical(seq, occurred_at, key_prefix, organisation_id, action, entity_type, entity_id, outcome,
                                           client_address, request_id, detail)
                    FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 1000
                    """,
                    expectedSeq
                )
            }
            if rows.isEmpty { return AuditVerification(checked: checked, firstBrokenSeq: nil, reason: nil) }
            for row in rows {
                let seq: Int = try row.decode(0)
                let prev = Array(try row.decode(1, as: Data.self))
                let hash = Array(try row.decode(2, as: Data.self))
                let canonical = try row.decode(3, as: Data.self)
                func broken(_ reason: String) -> AuditVerification {
                    AuditVerification(checked: checked, firstBrokenSeq: seq, reason: reason)
                }
                if seq != expectedSeq {
                    return AuditVerification(checked: checked, firstBrokenSeq: expectedSeq, reason: "row \(expectedSeq) is missing")
                }
                if prev != previousHash { return broken("its previous hash does not match row \(seq - 1)") }
                if Array(SHA256.hash(data: Data(previousHash) + canonical)) != hash { return broken("its contents do not match its hash") }
                previousHash = hash
                expectedSeq += 1
                checked += 1
            }
        }
    }
}

extension AuditRecord {
    init(row: PostgresRow) throws {
        let outcome: String = try row.decode(7)
        guard let parsed = AuditEvent.Outcome(rawValue: outcome) else { throw StoredValueError(column: "audit_log.outcome") }
        self.init(
            seq: try row.decode(0),
            occurredAt: try row.decode(1),
            event: AuditEvent(
                action: try row.decode(4), outcome: parsed, keyPrefix: try row.decode(2), organisationID: try row.decode(3),
                entityType: try row.decode(5), entityID: try row.decode(6), clientAddress: try row.decode(8), requestID: try row.decode(9),
                detailJSON: try row.decode(10, as: PostgresJSON.self).text
            ),
            hash: try row.decode(11)
        )
    }
}

extension PostgresConnection {
    /// Records `event` in the audit log as part of the transaction this connection is in, so the change and
    /// its audit row commit together; the row joins the hash chain shortly after commit.
    public func recordAudit(_ event: AuditEvent) async throws {
        try await query(
            "SELECT audit_record($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)",
            event.keyPrefix, event.organisationID, event.action, event.entityType, event.entityID, event.outcome.rawValue,
            event.clientAddress, event.requestID, event.detailJSON
        )
    }
}
