import Domain
import Foundation
import LibPQ

/// The dispatcher's side of webhook delivery: fanning events out into deliveries, claiming due deliveries
/// under a lease, recording each attempt's outcome, and reaping leases whose dispatcher stopped. Safe with
/// any number of dispatchers against one database.
public struct WebhookQueue: Sendable {
    private let pool: PostgresPool

    /// A queue over `pool`.
    public init(pool: PostgresPool) { self.pool = pool }

    /// A delivery claimed for one attempt: everything needed to send it.
    public struct Claim: Sendable {
        public var deliveryID: UUID
        public var endpointID: UUID
        public var eventID: UUID
        public var eventType: String
        public var subject: String
        /// This attempt's number, 1 for the first.
        public var attempt: Int
        /// The body to send, exactly as signed.
        public var body: String
        public var url: String
        /// The signing secrets: the current one, and the previous one while a rotation overlaps.
        public var secrets: [WebhookSecret]
        public var tlsClientCertificate: String?
        public var tlsClientKey: String?
        public var tlsCACertificate: String?
    }

    /// What one attempt found.
    public struct Outcome: Sendable {
        public var statusCode: Int?
        public var retryAfter: String?
        public var errorClass: WebhookErrorClass?
        public var errorMessage: String?
        public var timings: WebhookDelivery.Timings?
        public var startedAt: Date

        /// An outcome from its parts.
        public init(
            statusCode: Int?, retryAfter: String?, errorClass: WebhookErrorClass?, errorMessage: String?, timings: WebhookDelivery.Timings?,
            startedAt: Date
        ) {
            self.statusCode = statusCode
            self.retryAfter = retryAfter
            self.errorClass = errorClass
            self.errorMessage = errorMessage
            self.timings = timings
            self.startedAt = startedAt
        }
    }

    /// What recording an outcome did.
    public enum Recorded: Sendable, Hashable {
        case delivered
        case retrying
        /// The schedule ran out.
        case failed
        /// The endpoint answered 410 or failed for too long, and is now disabled.
        case endpointDisabled
        /// The lease had passed to another dispatcher: the attempt is logged, the delivery left to it.
        case stale
    }

    // MARK: Fan-out

    /// Turns up to `limit` events not yet fanned out into one delivery per enabled endpoint that should hear of
    /// each, oldest first; returns how many deliveries it created. One dispatcher fans out at a time (the others
    /// return 0 at once), so deliveries about one subject are always created in its order.
    public func fanOut(limit: Int = 1000) async throws -> (events: Int, deliveries: Int) {
        try await pool.withTransaction { connection in
            let locked: Bool = try await connection.query("SELECT pg_try_advisory_xact_lock(hashtext('sightline.webhook_fan_out'))")[0].decode(0)
            guard locked else { return (0, 0) }
            let row = try await connection.query(
                """
                WITH batch AS (
                    SELECT position, id, type, subject, sequence, audience, covert FROM events
                    WHERE fanned_out_at IS NULL ORDER BY position LIMIT $1
                ), marked AS (
                    UPDATE events e SET fanned_out_at = now() FROM batch b WHERE e.position = b.position
                ), created AS (
                    INSERT INTO webhook_deliveries (endpoint_id, event_id, subject, sequence)
                    SELECT w.id, b.id, b.subject, b.sequence
                    FROM batch b JOIN webhook_endpoints w
                      ON w.enabled AND w.organisation_id = ANY (b.audience) AND (NOT b.covert OR w.covert_access)
                     AND (cardinality(w.event_types) = 0 OR b.type = ANY (w.event_types))
                    ORDER BY b.position
                    ON CONFLICT (endpoint_id, event_id) DO NOTHING
                    RETURNING 1
                )
                SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM created)
                """,
                limit
            )[0]
            return (try row.decode(0), try row.decode(1))
        }
    }

    // MARK: Claiming

    /// Claims up to `limit` due deliveries for one attempt each, leased for `lease`.
    ///
    /// A delivery is due when its time has come, its endpoint is enabled with its circuit closed (or half open:
    /// then one probe at a time), no earlier event about its subject is still pending or in flight for that
    /// endpoint, and the endpoint has fewer than `perEndpoint` deliveries in flight.
    public func claim(limit: Int, perEndpoint: Int, lease: Duration) async throws -> [Claim] {
        guard limit > 0 else { return [] }
        return try await pool.withConnection { connection in
            try await connection.query(
                """
                WITH due AS (
                    SELECT d.id, d.endpoint_id, d.next_attempt_at,
                           row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.id) AS place
                    FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
                    WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND w.enabled
                      AND (w.circuit_open_until IS NULL OR w.circuit_open_until <= now())
                      AND NOT EXISTS (
                          SELECT 1 FROM webhook_deliveries p
                          WHERE p.endpoint_id = d.endpoint_id AND p.subject = d.subject AND p.status IN ('pending', 'delivering')
                            AND p.sequence < d.sequence
                      )
                ), room AS (
                    SELECT w.id,
                           CASE WHEN w.circuit_open_until IS NULL THEN $2 ELSE 1 END
                           - (SELECT count(*) FROM webhook_deliveries f WHERE f.endpoint_id = w.id AND f.status = 'delivering') AS free
                    FROM webhook_endpoints w WHERE w.id IN (SELECT endpoint_id FROM due)
                ), chosen AS (
                    SELECT d.id FROM webhook_deliveries d
                    WHERE d.id IN (
                        SELECT due.id FROM due JOIN room ON room.id = due.endpoint_id
                        WHERE due.place <= room.free ORDER BY due.next_attempt_at LIMIT $1
                    ) AND d.status = 'pending'
                    FOR UPDATE OF d SKIP LOCKED
                )
                UPDATE webhook_deliveries d
                SET status = 'delivering', attempts = d.attempts + 1, lease_until = now() + $3 * interval '1 millisecond', updated_at = now()
                FROM chosen, events ev, webhook_endpoints w
                WHERE d.id = chosen.id AND ev.id = d.event_id AND w.id = d.endpoint_id
                RETURNING d.id, d.endpoint_id, d.event_id, ev.type, d.subject, d.attempts,
                          jsonb_build_object('type', ev.type, 'timestamp', to_char(ev.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                             'data', ev.payload)::text,
                          w.url, w.secret, CASE WHEN w.previous_secret_until > now() THEN w.previous_secret END,
                          w.tls_client_certificate, w.tls_client_key, w.tls_ca_certificate
                """,
                limit, perEndpoint, Double(lease.milliseconds)
            ).map { row in
                let secrets = [try row.decode(8, as: String.self), try row.decode(9, as: String?.self)].compactMap { $0.flatMap(WebhookSecret.init) }
                return Claim(
                    deliveryID: try row.decode(0), endpointID: try row.decode(1), eventID: try row.decode(2), eventType: try row.decode(3),
                    subject: try row.decode(4), attempt: Int(try row.decode(5, as: Int32.self)), body: try row.decode(6), url: try row.decode(7),
                    secrets: secrets, tlsClientCertificate: try row.decode(10), tlsClientKey: try row.decode(11), tlsCACertificate: try row.decode(12)
                )
            }
        }
    }

    /// Returns deliveries whose lease ran out (their dispatcher stopped mid-attempt) to the queue; how many.
    public func reapExpiredLeases() async throws -> Int {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                WITH reaped AS (
                    UPDATE webhook_deliveries
                    SET status = 'pending', lease_until = NULL, next_attempt_at = now(), updated_at = now(),
                        last_error = 'the dispatcher sending attempt ' || attempts || ' stopped before it finished'
                    WHERE status = 'delivering' AND lease_until < now()
                    RETURNING 1
                )
                SELECT count(*) FROM reaped
                """
            )[0].decode(0)
        }
    }

    // MARK: Recording

    /// Records `outcome` of `claim`'s attempt: the attempt row, the delivery's new state (delivered, retried
    /// on `schedule`, or failed) and the endpoint's circuit (closed by a success; opened by `breaker` after
    /// failures; the endpoint disabled on 410 or after failing too long, with a `webhook_endpoint.disabled`
    /// event to its organisation).
    public func record(
        _ outcome: Outcome, of claim: Claim, schedule: WebhookRetrySchedule, breaker: WebhookCircuitBreaker, now: Date = Date()
    ) async throws -> Recorded {
        let verdict: WebhookAttemptVerdict? = outcome.statusCode.map { WebhookAttemptVerdict.of(status: $0, retryAfter: outcome.retryAfter, now: now) }
        let errorClass: WebhookErrorClass? = switch verdict {
        case .delivered: nil
        case .gone, .retry: outcome.errorClass ?? .httpStatus
        case nil: outcome.errorClass ?? .other
        }
        return try await pool.withTransaction { connection in
            try await connection.query(
                """
                INSERT INTO webhook_attempts (delivery_id, attempt, started_at, status_code, error_class, error_message, dns_ms, connect_ms, tls_ms,
                                              first_byte_ms, total_ms)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                ON CONFLICT (delivery_id, attempt) DO NOTHING
                """,
                claim.deliveryID, claim.attempt, outcome.startedAt, outcome.statusCode, errorClass?.rawValue, outcome.errorMessage.map { String($0.prefix(500)) },
                outcome.timings?.dns, outcome.timings?.connect, outcome.timings?.tls, outcome.timings?.firstByte, outcome.timings?.total
            )
            // The endpoint first (a share lock, as a delivery's foreign key takes), then the delivery: the order a
            // DELETE of the endpoint cascading to its deliveries takes them in, so the two cannot deadlock.
            guard try await !connection.query("SELECT 1 FROM webhook_endpoints WHERE id = $1 FOR KEY SHARE", claim.endpointID).isEmpty else {
                return .stale
            }
            // Still ours only if no reaper and no other dispatcher has taken it since.
            let current = try await connection.query(
                "SELECT 1 FROM webhook_deliveries WHERE id = $1 AND status = 'delivering' AND attempts = $2 FOR UPDATE", claim.deliveryID, claim.attempt
            )
            guard !current.isEmpty else { return .stale }

            if case .delivered = verdict {
                try await connection.query(
                    """
                    UPDATE webhook_deliveries
                    SET status = 'succeeded', lease_until = NULL, last_status_code = $2, last_error = NULL, delivered_at = now(), updated_at = now()
                    WHERE id = $1
                    """,
                    claim.deliveryID, outcome.statusCode
                )
                // Only an endpoint that was failing is written to, so successes do not queue on its row.
                try await connection.query(
                    """
                    UPDATE webhook_endpoints SET consecutive_failures = 0, failing_since = NULL, circuit_open_until = NULL
                    WHERE id = $1 AND (consecutive_failures > 0 OR circuit_open_until IS NOT NULL)
                    """,
                    claim.endpointID
                )
                return .delivered
            }

            var retryAfter: Duration?
            if case .retry(let after) = verdict { retryAfter = after }
            let wait = schedule.delay(afterAttempt: claim.attempt, retryAfter: retryAfter)
            let message = outcome.errorMessage ?? outcome.statusCode.map { "HTTP " + String($0) }
            try await connection.query(
                """
                UPDATE webhook_deliveries
                SET status = CASE WHEN $3::float8 IS NULL THEN 'failed' ELSE 'pending' END,
                    next_attempt_at = CASE WHEN $3::float8 IS NULL THEN next_attempt_at ELSE now() + $3 * interval '1 millisecond' END,
                    lease_until = NULL, last_status_code = $2, last_error = $4, updated_at = now()
                WHERE id = $1
                """,
                claim.deliveryID, outcome.statusCode, wait.map { Double($0.milliseconds) }, message
            )
            let endpoint = try await connection.query(
                """
                UPDATE webhook_endpoints
                SET consecutive_failures = consecutive_failures + 1, failing_since = coalesce(failing_since, now())
                WHERE id = $1
                RETURNING consecutive_failures, failing_since, enabled
                """,
                claim.endpointID
            )[0]
            let failures = Int(try endpoint.decode(0, as: Int32.self))
            let failingSince: Date = try endpoint.decode(1)
            let enabled: Bool = try endpoint.decode(2)
            let gone = verdict == .gone
            let failedTooLong = now.timeIntervalSince(failingSince) >= Double(breaker.disableAfter.components.seconds)
            if enabled && (gone || failedTooLong) {
                try await Self.disable(claim.endpointID, reason: gone ? .gone : .failing, on: connection)
                return .endpointDisabled
            }
            if let open = breaker.openFor(consecutiveFailures: failures) {
                try await connection.query(
                    "UPDATE webhook_endpoints SET circuit_open_until = now() + $2 * interval '1 millisecond' WHERE id = $1",
                    claim.endpointID, Double(open.milliseconds)
                )
            }
            return wait == nil ? .failed : .retrying
        }
    }

    /// Disables an endpoint and tells its organisation, through its other endpoints, with `webhook_endpoint.disabled`.
    private static func disable(_ id: UUID, reason: WebhookDisabledReason, on connection: PostgresConnection) async throws {
        let row = try await connection.query(
            """
            UPDATE webhook_endpoints
            SET enabled = false, disabled_reason = $2, disabled_at = now(), circuit_open_until = NULL, updated_at = now(), version = version + 1
            WHERE id = $1
            RETURNING organisation_id, version, url
            """,
            id, reason.rawValue
        )[0]
        let organisationID: UUID = try row.decode(0)
        let version: Int = try row.decode(1)
        try await connection.appendEvent(
            RegistryEvent(
                type: "webhook_endpoint.disabled", subject: "webhook_endpoint/" + id.uuidString.lowercased(), sequence: version,
                audience: [organisationID], covert: false,
                payloadJSON: EventPayload(id: id, version: version, fields: ["reason": reason.rawValue, "url": try row.decode(2, as: String.self)]).json
            )
        )
        try await connection.recordAudit(
            AuditActor.dispatcher(for: organisationID).event(
                "webhook_endpoint.disable", .success, entityType: "webhook_endpoint", entityID: id.uuidString.lowercased(),
                detail: ["reason": reason.rawValue]
            )
        )
    }

    // MARK: Upkeep

    /// Deletes events older than `retention` (their deliveries and attempts with them), `limit` at a time; how many.
    public func purge(olderThan retention: Duration, limit: Int = 10_000) async throws -> Int {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                WITH old AS (
                    SELECT position FROM events WHERE created_at < now() - $1 * interval '1 second' AND fanned_out_at IS NOT NULL
                    ORDER BY position LIMIT $2
                ), deleted AS (
                    DELETE FROM events e USING old WHERE e.position = old.position RETURNING 1
                )
                SELECT count(*) FROM deleted
                """,
                Double(retention.components.seconds), limit
            )[0].decode(0)
        }
    }

    /// The queue's shape for the metrics: deliveries pending and the age of the oldest, by the state of their
    /// endpoint (`closed`, `open`, `half_open`, `disabled`).
    public func depth() async throws -> [(state: String, pending: Int, oldestSeconds: Double)] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT CASE WHEN NOT w.enabled THEN 'disabled' WHEN w.circuit_open_until IS NULL THEN 'closed'
                            WHEN w.circuit_open_until > now() THEN 'open' ELSE 'half_open' END AS state,
                       count(*), coalesce(extract(epoch FROM now() - min(d.created_at)), 0)::float8
                FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
                WHERE d.status IN ('pending', 'delivering')
                GROUP BY 1
                """
            ).map { (try $0.decode(0), try $0.decode(1), try $0.decode(2)) }
        }
    }
}
