import Domain
import Foundation
import LibPQ

/// Partners' webhook endpoints and the log of their deliveries (DESIGN §7), as their organisation manages them.
/// Every read and write is scoped to the caller's organisation: another organisation's endpoint is `nil`.
public struct WebhookStore: Sendable {
    private let database: Database
    private var clock: any WallClock { database.clock }

    /// A store over `database`, reading the time from its clock.
    public init(_ database: Database) { self.database = database }

    static let columns = """
        e.id, e.organisation_id, e.url, e.event_types, e.description, e.enabled, e.covert_access, e.tls_client_certificate, e.tls_client_key,
        e.tls_ca_certificate, e.disabled_reason, e.disabled_at, e.previous_secret_until, e.consecutive_failures, e.failing_since,
        e.circuit_open_until, e.created_at, e.updated_at, e.version
        """

    static let deliveryColumns = """
        d.id, d.endpoint_id, d.event_id, ev.type, d.subject, d.sequence, d.status, d.attempts, d.next_attempt_at, d.last_status_code,
        a.error_class, d.last_error, a.dns_ms, a.connect_ms, a.tls_ms, a.first_byte_ms, a.total_ms, d.created_at, d.delivered_at
        """

    // MARK: Endpoints

    /// Registers an endpoint for `organisationID` with a new secret, returned this once.
    public func create(_ draft: WebhookEndpointDraft, organisationID: UUID, actor: AuditActor) async throws -> (WebhookEndpoint, WebhookSecret) {
        let secret = WebhookSecret.generate()
        let endpoint = try await database.withTransaction { connection in
            let id: UUID = try await connection.query(
                """
                INSERT INTO webhook_endpoints (organisation_id, url, event_types, description, enabled, disabled_reason, disabled_at, covert_access,
                                               tls_client_certificate, tls_client_key, tls_ca_certificate, secret, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 THEN NULL ELSE 'partner' END, CASE WHEN $5 THEN NULL ELSE $11 END, $6, $7, $8, $9, $10, $11,
                        $11)
                RETURNING id
                """,
                organisationID, draft.url, draft.eventTypes, draft.description, draft.enabled, draft.covertAccess, draft.tlsClientCertificate,
                draft.tlsClientKey, draft.tlsCACertificate, secret.text, clock.now()
            )[0].decode(0)
            try await connection.recordAudit(
                actor.event(
                    "webhook_endpoint.create", .success, entityType: "webhook_endpoint", entityID: id.uuidString.lowercased(),
                    detail: ["url": .string(draft.url)])
            )
            return try await Self.endpoint(id, on: connection)
        }
        return (endpoint, secret)
    }

    /// One page of `organisationID`'s endpoints, oldest first.
    public func endpoints(organisationID: UUID, page: PageRequest) async throws -> Page<WebhookEndpoint> {
        let after = try TimeCursor.after(page)
        let rows = try await database.withConnection { connection in
            try await connection.query(
                "SELECT " + Self.columns + """
                     FROM webhook_endpoints e
                    WHERE e.organisation_id = $1 AND ($2::bigint IS NULL OR (e.created_at, e.id) > (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::uuid))
                    ORDER BY e.created_at, e.id LIMIT $4
                    """,
                organisationID, after?.microseconds, after?.id, page.limit + 1
            )
        }
        return Page(fetched: try rows.map(WebhookEndpoint.init(row:)), limit: page.limit) { TimeCursor.key($0.createdAt, $0.id) }
    }

    /// The endpoint `id` if it belongs to `organisationID`.
    public func endpoint(id: UUID, organisationID: UUID) async throws -> WebhookEndpoint? {
        try await database.withConnection { connection in
            try await connection.query(
                "SELECT " + Self.columns + " FROM webhook_endpoints e WHERE e.id = $1 AND e.organisation_id = $2", id, organisationID
            )
            .first.map(WebhookEndpoint.init(row:))
        }
    }

    /// Replaces the endpoint's settings with `draft` if its version is still `expectedVersion`. Turning it off
    /// records the partner as the reason; turning it on closes its circuit.
    public func update(
        id: UUID, organisationID: UUID, draft: WebhookEndpointDraft, expectedVersion: Int, actor: AuditActor
    ) async throws -> WebhookEndpoint? {
        try await database.withTransaction { connection in
            guard let version = try await Self.lock(id, organisationID, on: connection) else { return nil }
            guard version == expectedVersion else { throw PreconditionFailure.stale(currentETag: Preconditions.etag(version: version)) }
            try await connection.query(
                """
                UPDATE webhook_endpoints SET
                    url = $2, event_types = $3, description = $4, covert_access = $5, tls_client_certificate = $6, tls_client_key = $7,
                    tls_ca_certificate = $8,
                    disabled_reason = CASE WHEN $9 THEN NULL WHEN enabled THEN 'partner' ELSE disabled_reason END,
                    disabled_at = CASE WHEN $9 THEN NULL WHEN enabled THEN $10 ELSE disabled_at END,
                    consecutive_failures = CASE WHEN $9 AND NOT enabled THEN 0 ELSE consecutive_failures END,
                    failing_since = CASE WHEN $9 AND NOT enabled THEN NULL ELSE failing_since END,
                    circuit_open_until = CASE WHEN $9 AND NOT enabled THEN NULL ELSE circuit_open_until END,
                    enabled = $9, updated_at = $10, version = version + 1
                WHERE id = $1
                """,
                id, draft.url, draft.eventTypes, draft.description, draft.covertAccess, draft.tlsClientCertificate, draft.tlsClientKey,
                draft.tlsCACertificate, draft.enabled, clock.now()
            )
            try await connection.recordAudit(
                actor.event(
                    "webhook_endpoint.update", .success, entityType: "webhook_endpoint", entityID: id.uuidString.lowercased(),
                    detail: ["url": .string(draft.url)])
            )
            return try await Self.endpoint(id, on: connection)
        }
    }

    /// Deletes the endpoint and its delivery log; `false` if it is not `organisationID`'s.
    public func delete(id: UUID, organisationID: UUID, actor: AuditActor) async throws -> Bool {
        try await database.withTransaction { connection in
            let deleted = try await connection.query(
                "DELETE FROM webhook_endpoints WHERE id = $1 AND organisation_id = $2 RETURNING url", id, organisationID
            )
            guard let row = deleted.first else { return false }
            try await connection.recordAudit(
                actor.event(
                    "webhook_endpoint.delete", .success, entityType: "webhook_endpoint", entityID: id.uuidString.lowercased(),
                    detail: ["url": .string(try row.decode(0))])
            )
            return true
        }
    }

    /// Gives the endpoint a new secret, returned this once; the current one goes on signing beside it for `overlap`.
    public func rotateSecret(id: UUID, organisationID: UUID, overlap: Duration, actor: AuditActor) async throws -> (WebhookEndpoint, WebhookSecret)? {
        let secret = WebhookSecret.generate()
        let endpoint: WebhookEndpoint? = try await database.withTransaction { connection in
            guard try await Self.lock(id, organisationID, on: connection) != nil else { return nil }
            try await connection.query(
                """
                UPDATE webhook_endpoints
                SET previous_secret = secret, previous_secret_until = $4 + $2 * interval '1 second', secret = $3, updated_at = $4,
                    version = version + 1
                WHERE id = $1
                """,
                id, Double(overlap.components.seconds), secret.text, clock.now()
            )
            try await connection.recordAudit(
                actor.event("webhook_endpoint.rotate_secret", .success, entityType: "webhook_endpoint", entityID: id.uuidString.lowercased())
            )
            return try await Self.endpoint(id, on: connection)
        }
        return endpoint.map { ($0, secret) }
    }

    /// Turns the endpoint on again after it was disabled, with its circuit closed.
    public func enable(id: UUID, organisationID: UUID, actor: AuditActor) async throws -> WebhookEndpoint? {
        try await database.withTransaction { connection in
            guard try await Self.lock(id, organisationID, on: connection) != nil else { return nil }
            try await connection.query(
                """
                UPDATE webhook_endpoints
                SET enabled = true, disabled_reason = NULL, disabled_at = NULL, consecutive_failures = 0, failing_since = NULL,
                    circuit_open_until = NULL, updated_at = $2, version = version + 1
                WHERE id = $1
                """,
                id, clock.now()
            )
            try await connection.recordAudit(
                actor.event("webhook_endpoint.enable", .success, entityType: "webhook_endpoint", entityID: id.uuidString.lowercased()))
            return try await Self.endpoint(id, on: connection)
        }
    }

    /// Queues a `webhook.test` event for this endpoint alone, whatever it subscribes to; returns the delivery.
    public func sendTest(id: UUID, organisationID: UUID, actor: AuditActor) async throws -> WebhookDelivery? {
        try await database.withTransaction { connection in
            guard try await Self.lock(id, organisationID, on: connection) != nil else { return nil }
            // An empty audience and an event already fanned out: no one else hears of it, and it is not listed.
            let event = DomainEvent.webhookTest(endpointID: id)
            let delivery: UUID = try await connection.query(
                """
                WITH event AS (
                    INSERT INTO events (type, subject, sequence, audience, covert, payload, created_at, fanned_out_at)
                    VALUES ($2, $3, 1, '{}', false, $4::jsonb, $5, $5)
                    RETURNING id, subject, sequence
                )
                INSERT INTO webhook_deliveries (endpoint_id, event_id, subject, sequence, next_attempt_at, created_at, updated_at)
                SELECT $1, id, subject, sequence, $5, $5, $5 FROM event
                RETURNING id
                """,
                id, event.type.rawValue, event.subject, event.payload.jsonText, clock.now()
            )[0].decode(0)
            try await connection.recordAudit(
                actor.event("webhook_endpoint.test", .success, entityType: "webhook_endpoint", entityID: id.uuidString.lowercased()))
            return try await Self.deliveries(.id(delivery), on: connection).first
        }
    }

    // MARK: Deliveries

    /// One page of the endpoint's deliveries, newest first, or `nil` if the endpoint is not `organisationID`'s.
    public func deliveries(
        endpointID: UUID, organisationID: UUID, status: WebhookDeliveryStatus?, page: PageRequest
    ) async throws -> Page<WebhookDelivery>? {
        let before = try TimeCursor.after(page)
        return try await database.withConnection { connection in
            guard
                try await connection.query("SELECT 1 FROM webhook_endpoints WHERE id = $1 AND organisation_id = $2", endpointID, organisationID).first
                    != nil
            else { return nil }
            let fetched = try await Self.deliveries(
                .endpointPage(endpointID, status: status, before: before, limit: page.limit + 1), on: connection
            )
            return Page(fetched: fetched, limit: page.limit) { TimeCursor.key($0.createdAt, $0.id) }
        }
    }

    /// Attempts listed when one delivery is read: the retry schedule makes ten, so a hundred means redeliveries.
    public static let attemptLogLength = 100

    /// One delivery of `organisationID`'s, with its latest attempts (newest first), or `nil`.
    public func delivery(id: UUID, organisationID: UUID) async throws -> WebhookDelivery? {
        try await database.withConnection { connection in
            guard
                var delivery = try await Self.deliveries(.ofOrganisation(id, organisationID), on: connection).first
            else { return nil }
            delivery.attemptLog = try await connection.query(
                """
                SELECT attempt, started_at, status_code, error_class, error_message, dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms
                FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt DESC LIMIT $2
                """,
                id, Self.attemptLogLength
            ).map(WebhookAttempt.init(row:))
            return delivery
        }
    }

    /// Queues the delivery again now, whatever became of it, unless it is being sent this moment; `nil` if it
    /// is not a delivery of `organisationID`'s.
    public func redeliver(id: UUID, organisationID: UUID, actor: AuditActor) async throws -> WebhookDelivery? {
        try await database.withTransaction { connection in
            guard
                let row = try await connection.query(
                    """
                    SELECT d.status FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                    WHERE d.id = $1 AND e.organisation_id = $2 FOR UPDATE OF d
                    """,
                    id, organisationID
                ).first
            else { return nil }
            if try row.decode(0, as: String.self) == WebhookDeliveryStatus.delivering.rawValue {
                throw StateConflict("The delivery is being sent now; ask again once this attempt has finished.")
            }
            try await connection.query(
                "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $2, updated_at = $2 WHERE id = $1", id, clock.now()
            )
            try await connection.recordAudit(
                actor.event("webhook_delivery.redeliver", .success, entityType: "webhook_delivery", entityID: id.uuidString.lowercased()))
            return try await Self.deliveries(.id(id), on: connection).first
        }
    }

    /// Queues again every event since `since` that the endpoint would receive (whether or not it was delivered
    /// before); returns how many, or `nil` if the endpoint is not `organisationID`'s.
    public func recover(endpointID: UUID, organisationID: UUID, since: Date, actor: AuditActor) async throws -> Int? {
        try await database.withTransaction { connection in
            guard try await Self.lock(endpointID, organisationID, on: connection) != nil else { return nil }
            let queued: Int = try await connection.query(
                """
                WITH queued AS (
                    INSERT INTO webhook_deliveries (endpoint_id, event_id, subject, sequence, next_attempt_at, created_at, updated_at)
                    SELECT w.id, ev.id, ev.subject, ev.sequence, $3, $3, $3
                    FROM webhook_endpoints w JOIN events ev
                      ON ev.audience @> ARRAY[w.organisation_id] AND (NOT ev.covert OR w.covert_access)
                     AND (cardinality(w.event_types) = 0 OR ev.type = ANY (w.event_types))
                    WHERE w.id = $1 AND ev.created_at >= $2
                    ORDER BY ev.position
                    ON CONFLICT (endpoint_id, event_id) DO UPDATE
                        SET status = 'pending', next_attempt_at = $3, updated_at = $3
                        WHERE webhook_deliveries.status <> 'delivering'
                    RETURNING 1
                )
                SELECT count(*) FROM queued
                """,
                endpointID, since, clock.now()
            )[0].decode(0)
            try await connection.recordAudit(
                actor.event(
                    "webhook_endpoint.recover", .success, entityType: "webhook_endpoint", entityID: endpointID.uuidString.lowercased(),
                    detail: ["since": .string(ISO8601DateFormatter().string(from: since)), "queued": .integer(queued)])
            )
            return queued
        }
    }

    // MARK: Shared

    /// Locks the endpoint row if it is `organisationID`'s; its version, or `nil`.
    private static func lock(_ id: UUID, _ organisationID: UUID, on connection: PostgresConnection) async throws -> Int? {
        try await connection.query("SELECT version FROM webhook_endpoints WHERE id = $1 AND organisation_id = $2 FOR UPDATE", id, organisationID)
            .first.map { try $0.decode(0) }
    }

    static func endpoint(_ id: UUID, on connection: PostgresConnection) async throws -> WebhookEndpoint {
        try WebhookEndpoint(row: try await connection.query("SELECT " + columns + " FROM webhook_endpoints e WHERE e.id = $1", id)[0])
    }

    /// Which deliveries `deliveries(_:on:)` reads.
    enum DeliverySelection {
        /// The delivery with this id.
        case id(UUID)
        /// The delivery with this id, if it is to an endpoint of this organisation's.
        case ofOrganisation(UUID, UUID)
        /// One page of an endpoint's deliveries, newest first, optionally of one status, before a cursor's place.
        case endpointPage(UUID, status: WebhookDeliveryStatus?, before: TimeCursor?, limit: Int)
    }

    /// The deliveries `selection` names, each with its latest attempt's error class and timings.
    static func deliveries(_ selection: DeliverySelection, on connection: PostgresConnection) async throws -> [WebhookDelivery] {
        let select =
            "SELECT " + deliveryColumns + """
                 FROM webhook_deliveries d JOIN events ev ON ev.id = d.event_id
                LEFT JOIN LATERAL (
                    SELECT error_class, dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms FROM webhook_attempts
                    WHERE delivery_id = d.id ORDER BY attempt DESC LIMIT 1
                ) a ON true

                """
        let rows: PostgresRows
        switch selection {
        case .id(let id):
            rows = try await connection.query(select + "WHERE d.id = $1", id)
        case .ofOrganisation(let id, let organisationID):
            rows = try await connection.query(
                select + "WHERE d.id = $1 AND d.endpoint_id IN (SELECT id FROM webhook_endpoints WHERE organisation_id = $2)", id, organisationID
            )
        case .endpointPage(let endpointID, let status, let before, let limit):
            rows = try await connection.query(
                select + """
                    WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.status = $2)
                      AND ($3::bigint IS NULL OR (d.created_at, d.id) < (timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4::uuid))
                    ORDER BY d.created_at DESC, d.id DESC
                    LIMIT $5
                    """,
                endpointID, status?.rawValue, before?.microseconds, before?.id, limit
            )
        }
        return try rows.map(WebhookDelivery.init(row:))
    }
}

extension WebhookEndpoint {
    init(row: PostgresRow) throws {
        let reason: String? = try row.decode(10)
        self.init(
            id: try row.decode(0), organisationID: try row.decode(1),
            draft: WebhookEndpointDraft(
                url: try row.decode(2), eventTypes: try row.decode(3), description: try row.decode(4), enabled: try row.decode(5),
                covertAccess: try row.decode(6), tlsClientCertificate: try row.decode(7), tlsClientKey: try row.decode(8),
                tlsCACertificate: try row.decode(9)
            ),
            disabledReason: reason.flatMap(WebhookDisabledReason.init(rawValue:)), disabledAt: try row.decode(11),
            previousSecretUntil: try row.decode(12), consecutiveFailures: Int(try row.decode(13, as: Int32.self)), failingSince: try row.decode(14),
            circuitOpenUntil: try row.decode(15), createdAt: try row.decode(16), updatedAt: try row.decode(17), version: try row.decode(18)
        )
    }
}

extension WebhookDelivery {
    init(row: PostgresRow) throws {
        guard let status = WebhookDeliveryStatus(rawValue: try row.decode(6)) else { throw StoredValueError(column: "webhook_deliveries.status") }
        let errorClass: String? = try row.decode(10)
        let timings = try Timings(row: row, from: 12)
        self.init(
            id: try row.decode(0), endpointID: try row.decode(1), eventID: try row.decode(2), eventType: try row.decode(3),
            subject: try row.decode(4),
            sequence: Int(try row.decode(5, as: Int32.self)), status: status, attempts: Int(try row.decode(7, as: Int32.self)),
            nextAttemptAt: status == .pending ? try row.decode(8) : nil, lastStatusCode: try row.decode(9, as: Int32?.self).map(Int.init),
            lastErrorClass: errorClass.flatMap(WebhookErrorClass.init(rawValue:)), lastError: try row.decode(11), lastTimings: timings,
            createdAt: try row.decode(17), deliveredAt: try row.decode(18)
        )
    }
}

extension WebhookDelivery.Timings {
    /// The timings in five columns of `row` from `column` on (dns, connect, tls, first byte, total); `nil` if the
    /// attempt has none (its total is null).
    init?(row: PostgresRow, from column: Int) throws {
        guard let total: Double = try row.decode(column + 4) else { return nil }
        self.init(
            dns: try row.decode(column) ?? 0, connect: try row.decode(column + 1) ?? 0, tls: try row.decode(column + 2) ?? 0,
            firstByte: try row.decode(column + 3) ?? 0, total: total
        )
    }
}

extension WebhookAttempt {
    init(row: PostgresRow) throws {
        let errorClass: String? = try row.decode(3)
        self.init(
            attempt: Int(try row.decode(0, as: Int32.self)), startedAt: try row.decode(1),
            statusCode: try row.decode(2, as: Int32?.self).map(Int.init),
            errorClass: errorClass.flatMap(WebhookErrorClass.init(rawValue:)), error: try row.decode(4),
            timings: try WebhookDelivery.Timings(row: row, from: 5)
        )
    }
}
