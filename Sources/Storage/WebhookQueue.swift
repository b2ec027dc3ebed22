import Domain
import Foundation
import LibPQ

/// The dispatcher's side of webhook delivery: fanning events out into deliveries, claiming due deliveries
/// under a lease, recording each attempt's outcome, and reaping leases whose dispatcher stopped. Safe with
/// any number of dispatchers against one database.
public struct WebhookQueue: Sendable {
    private let database: Database
    private var clock: any WallClock { database.clock }

    /// A queue over `database`, reading the time from its clock.
    public init(_ database: Database) { self.database = database }

    /// The channel dispatchers listen on: a NOTIFY there means "there may be work". It is sent after commit, by
    /// the API once a change has committed and by a dispatcher once it has fanned events out, never from inside a
    /// business transaction.
    public static let channel = "sightline_webhooks"

    /// Tells every dispatcher there may be work (a NOTIFY on `channel`, in a transaction of its own).
    public func wakeDispatchers() async throws {
        try await database.withConnection { try await $0.query("SELECT pg_notify($1, '')", Self.channel) }
    }

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

        /// What went wrong, if the attempt failed: libcurl's message, else the status ("HTTP 500").
        var failure: String? { (errorMessage ?? statusCode.map { "HTTP " + String($0) }).map { String($0.prefix(500)) } }
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
    public func fanOut(limit: Int) async throws -> (events: Int, deliveries: Int) {
        try await database.withTransaction { connection in
            let locked: Bool = try await connection.query("SELECT pg_try_advisory_xact_lock(hashtext('sightline.webhook_fan_out'))")[0].decode(0)
            guard locked else { return (0, 0) }
            let row = try await connection.query(
                """
                WITH batch AS (
                    SELECT position, id, type, subject, sequence, audience, covert FROM events
                    WHERE fanned_out_at IS NULL ORDER BY position LIMIT $1
                ), marked AS (
                    UPDATE events e SET fanned_out_at = $2 FROM batch b WHERE e.position = b.position
                ), created AS (
                    INSERT INTO webhook_deliveries (endpoint_id, event_id, subject, sequence, next_attempt_at, created_at, updated_at)
                    SELECT w.id, b.id, b.subject, b.sequence, $2, $2, $2
                    FROM batch b JOIN webhook_endpoints w
                      ON w.enabled AND w.organisation_id = ANY (b.audience) AND (NOT b.covert OR w.covert_access)
                     AND (cardinality(w.event_types) = 0 OR b.type = ANY (w.event_types))
                    ORDER BY b.position
                    ON CONFLICT (endpoint_id, event_id) DO NOTHING
                    RETURNING 1
                )
                SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM created)
                """,
                limit, clock.now()
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
    ///
    /// The bound per endpoint is exact across dispatchers: a claim first locks the endpoints it will claim for
    /// (skipping those another dispatcher is claiming for), and only then counts what is in flight, in a
    /// statement whose snapshot includes every claim committed before the lock was granted.
    public func claim(limit: Int, perEndpoint: Int, lease: Duration) async throws -> [Claim] {
        guard limit > 0 else { return [] }
        let now = clock.now()
        return try await database.withTransaction { connection in
            let endpoints: [UUID] = try await connection.query(
                """
                SELECT w.id FROM webhook_endpoints w
                WHERE w.enabled AND (w.circuit_open_until IS NULL OR w.circuit_open_until <= $1)
                  AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status = 'pending' AND d.next_attempt_at <= $1)
                FOR NO KEY UPDATE SKIP LOCKED
                """,
                now
            ).map { try $0.decode(0) }
            guard !endpoints.isEmpty else { return [] }
            return try await connection.query(
                """
                WITH room AS (
                    SELECT w.id, CASE WHEN w.circuit_open_until IS NULL THEN $2 ELSE 1 END
                                 - (SELECT count(*) FROM webhook_deliveries f WHERE f.endpoint_id = w.id AND f.status = 'delivering') AS free
                    FROM webhook_endpoints w WHERE w.id = ANY ($4)
                ), candidates AS (
                    -- Per endpoint, the oldest due heads of their subjects' lines: an index walk that stops after
                    -- `perEndpoint` rows, however long the backlog.
                    SELECT next.id, next.next_attempt_at FROM room CROSS JOIN LATERAL (
                        SELECT d.id, d.next_attempt_at, row_number() OVER (ORDER BY d.next_attempt_at, d.id) AS place
                        FROM webhook_deliveries d
                        WHERE d.endpoint_id = room.id AND d.status = 'pending' AND d.next_attempt_at <= $5
                          AND NOT EXISTS (
                              SELECT 1 FROM webhook_deliveries p
                              WHERE p.endpoint_id = d.endpoint_id AND p.subject = d.subject AND p.status IN ('pending', 'delivering')
                                AND p.sequence < d.sequence
                          )
                        ORDER BY d.next_attempt_at, d.id
                        LIMIT $2
                    ) next
                    WHERE next.place <= room.free
                ), chosen AS (
                    SELECT d.id FROM webhook_deliveries d
                    WHERE d.id IN (SELECT id FROM candidates ORDER BY next_attempt_at LIMIT $1) AND d.status = 'pending'
                    FOR UPDATE OF d SKIP LOCKED
                )
                UPDATE webhook_deliveries d
                SET status = 'delivering', attempts = d.attempts + 1, lease_until = $5 + $3 * interval '1 millisecond', updated_at = $5
                FROM chosen, events ev, webhook_endpoints w
                WHERE d.id = chosen.id AND ev.id = d.event_id AND w.id = d.endpoint_id
                RETURNING d.id, d.endpoint_id, d.event_id, ev.type, d.subject, d.attempts,
                          jsonb_build_object('type', ev.type, 'timestamp', to_char(ev.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                             'data', ev.payload)::text,
                          w.url, w.secret, CASE WHEN w.previous_secret_until > $5 THEN w.previous_secret END,
                          w.tls_client_certificate, w.tls_client_key, w.tls_ca_certificate
                """,
                limit, perEndpoint, Double(lease.milliseconds), endpoints, now
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

    /// Returns deliveries whose lease ran out by `now` (their dispatcher stopped mid-attempt) to the queue, logging
    /// the attempt as `lease_expired`; how many.
    public func reapExpiredLeases(now: Date) async throws -> Int {
        try await database.withConnection { connection in
            try await connection.query(
                """
                WITH expired AS (
                    -- A claim sets updated_at, and nothing else changes a delivery in flight: when the attempt began.
                    SELECT id, updated_at AS claimed_at FROM webhook_deliveries
                    WHERE status = 'delivering' AND lease_until < $1 FOR UPDATE SKIP LOCKED
                ), reaped AS (
                    UPDATE webhook_deliveries d
                    SET status = 'pending', lease_until = NULL, next_attempt_at = $1, updated_at = $1,
                        last_error = 'the dispatcher sending attempt ' || d.attempts || ' stopped before it finished'
                    FROM expired e WHERE d.id = e.id AND d.status = 'delivering'
                    RETURNING d.id, d.attempts, e.claimed_at, d.last_error
                ), logged AS (
                    -- The attempt is logged as lease_expired; a dispatcher that was only slow and records its outcome
                    -- after this finds its attempt logged already, and the delivery no longer its own (stale).
                    INSERT INTO webhook_attempts (delivery_id, attempt, started_at, error_class, error_message)
                    SELECT id, attempts, claimed_at, 'lease_expired', last_error FROM reaped
                    ON CONFLICT (delivery_id, attempt) DO NOTHING
                )
                SELECT count(*) FROM reaped
                """,
                now
            )[0].decode(0)
        }
    }

    // MARK: Recording

    /// One attempt's outcome, ready to record.
    public struct Attempt: Sendable {
        public var claim: Claim
        public var outcome: Outcome

        /// The outcome of `claim`'s attempt.
        public init(_ claim: Claim, _ outcome: Outcome) {
            self.claim = claim
            self.outcome = outcome
        }
    }

    /// The attempt table's row for one attempt (encoded for `jsonb_to_recordset`).
    private struct AttemptRow: Encodable {
        var delivery_id: UUID
        var attempt: Int
        var started_at: Date
        var status_code: Int?
        var error_class: String?
        var error_message: String?
        var dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms: Double?
    }

    /// Records the outcomes of `attempts` in one transaction, and returns what recording each did, in order:
    /// every attempt's row; each delivery's new state (delivered, retried on `schedule`, or failed); and each
    /// endpoint's circuit (closed by a success; opened by `breaker` after failures; the endpoint disabled on 410
    /// or after failing too long, with a `webhook_endpoint.disabled` event to its organisation).
    ///
    /// One transaction for many attempts is what lets one dispatcher record a thousand a second: successes, the
    /// usual case, are one statement however many there are.
    public func record(
        _ attempts: [Attempt], schedule: WebhookRetrySchedule, breaker: WebhookCircuitBreaker
    ) async throws -> [Recorded] {
        guard !attempts.isEmpty else { return [] }
        let now = clock.now()
        let verdicts: [WebhookAttemptVerdict?] = attempts.map { attempt in
            attempt.outcome.statusCode.map { WebhookAttemptVerdict.of(status: $0, retryAfter: attempt.outcome.retryAfter, now: now) }
        }
        let rows = zip(attempts, verdicts).map { attempt, verdict in
            let (claim, outcome) = (attempt.claim, attempt.outcome)
            let errorClass: WebhookErrorClass? =
                switch verdict {
                case .delivered: nil
                case .gone, .retry: outcome.errorClass ?? .httpStatus
                case nil: outcome.errorClass ?? .other
                }
            return AttemptRow(
                delivery_id: claim.deliveryID, attempt: claim.attempt, started_at: outcome.startedAt, status_code: outcome.statusCode,
                error_class: errorClass?.rawValue, error_message: errorClass == nil ? nil : outcome.failure, dns_ms: outcome.timings?.dns,
                connect_ms: outcome.timings?.connect, tls_ms: outcome.timings?.tls, first_byte_ms: outcome.timings?.firstByte,
                total_ms: outcome.timings?.total
            )
        }
        let rowsJSON = String(decoding: try JSONEncoder.postgres.encode(rows), as: UTF8.self)
        return try await database.withTransaction { connection in
            // The endpoints first (a share lock, as a delivery's foreign key takes), in one order, then the
            // deliveries: the order a DELETE of an endpoint cascading to its deliveries takes them in, so the two
            // cannot deadlock, and an endpoint locked here cannot lose its deliveries before this commits.
            let endpointIDs = Array(Set(attempts.map(\.claim.endpointID)))
            let endpoints = try await connection.query(
                "SELECT id, consecutive_failures > 0 OR circuit_open_until IS NOT NULL FROM webhook_endpoints WHERE id = ANY ($1) ORDER BY id FOR KEY SHARE",
                endpointIDs
            ).map { (id: try $0.decode(0, as: UUID.self), failing: try $0.decode(1, as: Bool.self)) }
            let live = Set(endpoints.map(\.id))
            // Those this will write to (a failure's, and a failing one a success heals), locked for writing now and
            // in id order: two dispatchers recording for the same endpoints cannot then deadlock.
            let written = endpoints.filter { endpoint in
                zip(attempts, verdicts).contains { $0.claim.endpointID == endpoint.id && (endpoint.failing || $1 != .delivered) }
            }
            if !written.isEmpty {
                try await connection.query(
                    "SELECT 1 FROM webhook_endpoints WHERE id = ANY ($1) ORDER BY id FOR NO KEY UPDATE", written.map(\.id)
                )
            }
            try await connection.query(
                """
                INSERT INTO webhook_attempts (delivery_id, attempt, started_at, status_code, error_class, error_message, dns_ms, connect_ms, tls_ms,
                                              first_byte_ms, total_ms)
                SELECT a.delivery_id, a.attempt, to_timestamp(a.started_at), a.status_code, a.error_class, a.error_message, a.dns_ms, a.connect_ms,
                       a.tls_ms, a.first_byte_ms, a.total_ms
                FROM jsonb_to_recordset($1::jsonb) AS a(delivery_id uuid, attempt int, started_at float8, status_code int, error_class text,
                                                        error_message text, dns_ms float8, connect_ms float8, tls_ms float8, first_byte_ms float8,
                                                        total_ms float8)
                WHERE EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = a.delivery_id)
                ON CONFLICT (delivery_id, attempt) DO NOTHING
                """,
                rowsJSON
            )
            var recorded = [Recorded](repeating: .stale, count: attempts.count)

            // Successes, in one statement; a delivery is still ours only if no reaper and no other dispatcher has
            // taken it since. Only an endpoint that was failing is written to, so successes do not queue on its row.
            let successes = attempts.indices.filter { verdicts[$0] == .delivered && live.contains(attempts[$0].claim.endpointID) }
            if !successes.isEmpty {
                let delivered = Set(
                    try await connection.query(
                        """
                        WITH delivered AS (
                            UPDATE webhook_deliveries d
                            SET status = 'succeeded', lease_until = NULL, last_status_code = a.status_code, last_error = NULL, delivered_at = $2,
                                updated_at = $2
                            FROM jsonb_to_recordset($1::jsonb) AS a(delivery_id uuid, attempt int, status_code int)
                            WHERE d.id = a.delivery_id AND d.status = 'delivering' AND d.attempts = a.attempt
                            RETURNING d.id, d.endpoint_id
                        ), healed AS (
                            UPDATE webhook_endpoints SET consecutive_failures = 0, failing_since = NULL, circuit_open_until = NULL
                            WHERE id IN (SELECT endpoint_id FROM delivered) AND (consecutive_failures > 0 OR circuit_open_until IS NOT NULL)
                        )
                        SELECT id FROM delivered
                        """,
                        String(decoding: try JSONEncoder.postgres.encode(successes.map { rows[$0] }), as: UTF8.self), now
                    ).map { try $0.decode(0, as: UUID.self) }
                )
                for index in successes where delivered.contains(attempts[index].claim.deliveryID) { recorded[index] = .delivered }
            }

            // Failures one at a time.
            let failures = attempts.indices.filter { verdicts[$0] != .delivered && live.contains(attempts[$0].claim.endpointID) }
            for index in failures {
                recorded[index] = try await Self.recordFailure(
                    attempts[index], verdict: verdicts[index], schedule: schedule, breaker: breaker, now: now, on: connection
                )
            }
            return recorded
        }
    }

    /// Records a failed attempt: the delivery retried on `schedule` or failed, the endpoint's failure count and
    /// circuit, and its disabling on 410 or after failing for `breaker.disableAfter`.
    private static func recordFailure(
        _ attempt: Attempt, verdict: WebhookAttemptVerdict?, schedule: WebhookRetrySchedule, breaker: WebhookCircuitBreaker, now: Date,
        on connection: PostgresConnection
    ) async throws -> Recorded {
        let (claim, outcome) = (attempt.claim, attempt.outcome)
        var retryAfter: Duration?
        if case .retry(let after) = verdict { retryAfter = after }
        let wait = schedule.delay(afterAttempt: claim.attempt, retryAfter: retryAfter)
        let updated = try await connection.query(
            """
            UPDATE webhook_deliveries
            SET status = CASE WHEN $3::float8 IS NULL THEN 'failed' ELSE 'pending' END,
                next_attempt_at = CASE WHEN $3::float8 IS NULL THEN next_attempt_at ELSE $6 + $3 * interval '1 millisecond' END,
                lease_until = NULL, last_status_code = $2, last_error = $4, updated_at = $6
            WHERE id = $1 AND status = 'delivering' AND attempts = $5
            RETURNING 1
            """,
            claim.deliveryID, outcome.statusCode, wait.map { Double($0.milliseconds) }, outcome.failure, claim.attempt, now
        )
        guard !updated.isEmpty else { return .stale }
        let endpoint = try await connection.query(
            """
            UPDATE webhook_endpoints
            SET consecutive_failures = consecutive_failures + 1, failing_since = coalesce(failing_since, $3)
            WHERE id = $1
            RETURNING consecutive_failures, $3 - failing_since >= $2 * interval '1 millisecond', enabled
            """,
            claim.endpointID, Double(breaker.disableAfter.milliseconds), now
        )[0]
        let failures = Int(try endpoint.decode(0, as: Int32.self))
        let failedTooLong: Bool = try endpoint.decode(1)
        let enabled: Bool = try endpoint.decode(2)
        let gone = verdict == .gone
        if enabled && (gone || failedTooLong) {
            try await disable(claim.endpointID, reason: gone ? .gone : .failing, now: now, on: connection)
            return .endpointDisabled
        }
        if let open = breaker.openFor(consecutiveFailures: failures) {
            try await connection.query(
                "UPDATE webhook_endpoints SET circuit_open_until = $3 + $2 * interval '1 millisecond' WHERE id = $1",
                claim.endpointID, Double(open.milliseconds), now
            )
        }
        return wait == nil ? .failed : .retrying
    }

    /// Disables an endpoint and tells its organisation, through its other endpoints, with `webhook_endpoint.disabled`.
    private static func disable(_ id: UUID, reason: WebhookDisabledReason, now: Date, on connection: PostgresConnection) async throws {
        let row = try await connection.query(
            """
            UPDATE webhook_endpoints
            SET enabled = false, disabled_reason = $2, disabled_at = $3, circuit_open_until = NULL, updated_at = $3, version = version + 1
            WHERE id = $1
            RETURNING organisation_id, version, url
            """,
            id, reason.rawValue, now
        )[0]
        let organisationID: UUID = try row.decode(0)
        let version: Int = try row.decode(1)
        try await connection.append(
            .webhookEndpointDisabled(id: id, version: version, organisation: organisationID, reason: reason, url: try row.decode(2)), at: now
        )
        try await connection.recordAudit(
            AuditActor.dispatcher(for: organisationID).event(
                "webhook_endpoint.disable", .success, entityType: "webhook_endpoint", entityID: id.uuidString.lowercased(),
                detail: ["reason": .string(reason.rawValue)]
            )
        )
    }

    // MARK: Upkeep

    /// Deletes events older than `retention` at `now` (their deliveries and attempts with them), up to `limit`; how many.
    public func purge(olderThan retention: Duration, now: Date, limit: Int = 10_000) async throws -> Int {
        try await database.withConnection { connection in
            try await connection.query(
                """
                WITH old AS (
                    SELECT position FROM events WHERE created_at < $3 - $1 * interval '1 second' AND fanned_out_at IS NOT NULL
                    ORDER BY position LIMIT $2
                ), deleted AS (
                    DELETE FROM events e USING old WHERE e.position = old.position RETURNING 1
                )
                SELECT count(*) FROM deleted
                """,
                Double(retention.components.seconds), limit, now
            )[0].decode(0)
        }
    }

    /// The queue's shape for the metrics: deliveries pending and the age of the oldest, by the state of their
    /// endpoint (`closed`, `open`, `half_open`, `disabled`).
    public func depth() async throws -> [(state: String, pending: Int, oldestSeconds: Double)] {
        try await database.withConnection { connection in
            try await connection.query(
                """
                SELECT CASE WHEN NOT w.enabled THEN 'disabled' WHEN w.circuit_open_until IS NULL THEN 'closed'
                            WHEN w.circuit_open_until > $1 THEN 'open' ELSE 'half_open' END AS state,
                       count(*), coalesce(extract(epoch FROM $1 - min(d.created_at)), 0)::float8
                FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
                WHERE d.status IN ('pending', 'delivering')
                GROUP BY 1
                """,
                clock.now()
            ).map { (try $0.decode(0), try $0.decode(1), try $0.decode(2)) }
        }
    }
}
