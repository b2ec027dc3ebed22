import Domain
import Foundation
import LibPQ

/// What became of an attempt to claim an Idempotency-Key.
public enum IdempotencyClaim: Sendable, Equatable {
    /// The key is this request's: run it, then `complete` or `release` the claim.
    case claimed
    /// The same request finished before: here is its sealed response.
    case finished(sealedResponse: Data)
    /// The same request is running now, elsewhere.
    case running
    /// The key was used for a different request (another body or operation).
    case mismatch
}

/// Idempotency keys: who claimed which key for which request, and the sealed response to replay.
///
/// The store sees only hashes and sealed bytes; deriving them is the caller's business.
public struct IdempotencyStore: Sendable {
    private let database: Database
    private var clock: any WallClock { database.clock }

    /// A store over `database`, reading the time from its clock.
    public init(_ database: Database) { self.database = database }

    /// Claims `keyHash` for the API key `apiKeyID`, or reports who has it.
    ///
    /// A key past its expiry is free again; a running claim whose lease ran out (its server died) passes to a
    /// retry of the same request.
    public func claim(
        apiKeyID: UUID, keyHash: [UInt8], operation: String, requestHash: [UInt8], lease: Duration, keepFor: Duration
    ) async throws -> IdempotencyClaim {
        try await database.withConnection { connection in
            while true {
                let claimed = try await connection.query(
                    """
                    INSERT INTO idempotency_keys (api_key_id, key_hash, operation, request_hash, state, lease_until, expires_at, created_at)
                    VALUES ($1, $2, $3, $4, 'running', $7 + $5 * interval '1 millisecond', $7 + $6 * interval '1 millisecond', $7)
                    ON CONFLICT (api_key_id, key_hash) DO UPDATE
                        SET operation = excluded.operation, request_hash = excluded.request_hash, state = 'running',
                            sealed_response = NULL, created_at = excluded.created_at, lease_until = excluded.lease_until,
                            expires_at = excluded.expires_at
                        WHERE idempotency_keys.expires_at <= excluded.created_at
                           OR (idempotency_keys.state = 'running' AND idempotency_keys.lease_until <= excluded.created_at
                               AND idempotency_keys.operation = excluded.operation
                               AND idempotency_keys.request_hash = excluded.request_hash)
                    RETURNING 1
                    """,
                    apiKeyID, Data(keyHash), operation, Data(requestHash), lease.milliseconds, keepFor.milliseconds, clock.now()
                )
                if !claimed.isEmpty { return .claimed }
                let existing = try await connection.query(
                    "SELECT operation, request_hash, state, sealed_response FROM idempotency_keys WHERE api_key_id = $1 AND key_hash = $2",
                    apiKeyID, Data(keyHash)
                )
                // Gone between the two statements (purged): claim again.
                guard let row = existing.first else { continue }
                let storedOperation: String = try row.decode(0)
                let storedHash = try row.decode(1, as: Data.self)
                guard storedOperation == operation, storedHash == Data(requestHash) else { return .mismatch }
                let state: String = try row.decode(2)
                if state == "running" { return .running }
                guard let sealed = try row.decode(3, as: Data?.self) else { throw StoredValueError(column: "idempotency_keys.sealed_response") }
                return .finished(sealedResponse: sealed)
            }
        }
    }

    /// Stores the response of a claimed request, for replay until the key expires.
    public func complete(apiKeyID: UUID, keyHash: [UInt8], sealedResponse: Data) async throws {
        try await database.withConnection { connection in
            try await connection.query(
                "UPDATE idempotency_keys SET state = 'done', sealed_response = $3 WHERE api_key_id = $1 AND key_hash = $2 AND state = 'running'",
                apiKeyID, Data(keyHash), sealedResponse
            )
        }
    }

    /// Gives up a claim whose request failed, so that a retry runs it afresh.
    public func release(apiKeyID: UUID, keyHash: [UInt8]) async throws {
        try await database.withConnection { connection in
            try await connection.query(
                "DELETE FROM idempotency_keys WHERE api_key_id = $1 AND key_hash = $2 AND state = 'running'", apiKeyID, Data(keyHash)
            )
        }
    }

    /// Deletes the keys expired at `now` and returns how many.
    @discardableResult
    public func purgeExpired(now: Date) async throws -> Int {
        try await database.withConnection { connection in
            try await connection.query(
                "WITH gone AS (DELETE FROM idempotency_keys WHERE expires_at <= $1 RETURNING 1) SELECT count(*) FROM gone", now)[0]
                .decode(0)
        }
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
