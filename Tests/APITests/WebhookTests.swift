import API
import Crypto
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import HummingbirdTesting
import Jobs
import LibPQ
import Logging
import Prometheus
import Storage
import Synchronization
import TestSupport
import Testing
import Webhooks

/// Settings for tests: the loopback block allowed, short retries, a quick poll. The timeouts are short too, but not
/// so short that a loaded machine (the whole suite runs at once on two cores) makes a local receiver time out and
/// sends an event twice: the tests that count deliveries exactly count on one attempt each. The test of a hanging
/// endpoint sets its own.
let testWebhookSettings = WebhookSettings(
    policy: WebhookAddressPolicy(allowed: [AddressBlock("127.0.0.0/8")!]), connectTimeout: .seconds(2), timeout: .seconds(5),
    concurrency: 32, perEndpoint: 8, pollInterval: .milliseconds(200),
    schedule: WebhookRetrySchedule(delays: [.milliseconds(200), .milliseconds(200), .milliseconds(200)], jitter: 0, longestRetryAfter: .seconds(1))
)

/// `value` changed by `change`.
func with<Value>(_ value: Value, _ change: (inout Value) -> Void) -> Value {
    var value = value
    change(&value)
    return value
}

/// Runs `count` workers' dispatchers and lease reapers (through the server's own database role), reading `clock`,
/// while `body` runs.
func withDispatchers(
    _ count: Int, url: String, settings: WebhookSettings = testWebhookSettings, metrics: WebhookMetrics? = nil,
    clock: any WallClock = SystemClock(), _ body: @Sendable () async throws -> Void
) async throws {
    let pool = try TestDatabase.makePool(url: TestDatabase.serverURL(url), acquireTimeout: .seconds(30))
    let dispatchers = (0..<count).map { _ in
        WebhookDispatcher(Database(pool: pool, clock: clock), settings: settings, metrics: metrics, logger: TestDatabase.logger)
    }
    let reapers = Jobs.runners(
        (0..<count).map { _ in WebhookLeaseReaperJob(Database(pool: pool, clock: clock), interval: .milliseconds(200)) }, clock: clock,
        metrics: JobMetrics(registry: PrometheusCollectorRegistry()), logger: TestDatabase.logger
    )
    do {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for dispatcher in dispatchers { group.addTask { try await dispatcher.run() } }
            for reaper in reapers { group.addTask { try await reaper.run() } }
            try await body()
            group.cancelAll()
        }
    } catch {
        await pool.close()
        throw error
    }
    await pool.close()
}

/// Registers an endpoint of Westminster at `url` directly in the database, and writes a `camera.created` event
/// for Westminster about each of `subjects` cameras, as the registry would have.
func westminsterEndpoint(_ url: String, withEventsAbout subjects: Int, _ pool: PostgresPool) async throws {
    try await pool.withConnection { connection in
        try await connection.query(
            "INSERT INTO webhook_endpoints (organisation_id, url, secret) VALUES ($1, $2, $3)", TestKeys.westminster, url,
            WebhookSecret.generate().text
        )
        try await connection.query(
            """
            INSERT INTO events (type, subject, sequence, audience, payload)
            SELECT 'camera.created', 'camera/test-' || n, 1, ARRAY[$1::uuid], jsonb_build_object('id', 'test-' || n, 'version', 1)
            FROM generate_series(1, $2) n
            """,
            TestKeys.westminster, subjects
        )
    }
}

struct EndpointBody: Decodable {
    let id: String
    let secret: String?
    let enabled: Bool
    let disabled_reason: String?
    let version: Int
}

struct DeliveryBody: Decodable {
    let id: String
    let event_id: String
    let status: String
    let attempts: Int
    let last_status_code: Int?
    let last_error_class: String?
    let last_error: String?
    let attempt_log: [AttemptBody]?
}

struct AttemptBody: Decodable {
    struct Timings: Decodable {
        let connect: Double
        let total: Double
    }
    let attempt: Int
    let started_at: String
    let status_code: Int?
    let error_class: String?
    let error: String?
    let timings_ms: Timings?
}

struct DeliveryListBody: Decodable {
    let items: [DeliveryBody]
}

extension TestResponse {
    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }
}

extension TestClientProtocol {
    /// Registers an endpoint at `url` for the organisation of `admin`.
    func register(_ url: String, _ admin: HTTPFields, types: [String] = []) async throws -> EndpointBody {
        let typesJSON = "[" + types.map { "\"" + $0 + "\"" }.joined(separator: ",") + "]"
        let created = try await send(.post, "/v1/webhook-endpoints", admin, #"{"url": "\#(url)", "event_types": \#(typesJSON)}"#)
        #expect(created.status == .created, "\(created.text)")
        return try created.decode(EndpointBody.self)
    }
}

@Suite("Webhooks: real HTTP to a real local receiver")
struct WebhookTests {
    @Test func aChangeReachesTheEndpointSignedAndTheTestEventOnlyItsOwn() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url, webhooks: testWebhookSettings) { client, keys in
                let receiver = WebhookReceiver()
                try await receiver.run { base in
                    let endpoint = try await client.register(base + "/ok/westminster", keys(.partnerAdmin))
                    let secret = try #require(endpoint.secret)
                    #expect(secret.hasPrefix("whsec_") && Data(base64Encoded: String(secret.dropFirst(6)))!.count >= 24)
                    // Camden's endpoint (Camden has no key in the fixture: written directly), and the MPS's.
                    let other: UUID = try await pool.withConnection {
                        try await $0.query(
                            "INSERT INTO webhook_endpoints (organisation_id, url, secret) VALUES ($1, $2, $3) RETURNING id",
                            TestKeys.camden, base + "/ok/camden", WebhookSecret.generate().text
                        )[0].decode(0)
                    }
                    // The secret is shown once: not on a read.
                    let read = try await client.send(.get, "/v1/webhook-endpoints/" + endpoint.id, keys(.partnerAdmin))
                    #expect(!read.text.contains("whsec_"))
                    // Another organisation's endpoint does not exist for this caller.
                    #expect(try await client.send(.get, "/v1/webhook-endpoints/" + other.uuidString, keys(.partnerAdmin)).status == .notFound)

                    try await withDispatchers(1, url: url) {
                        let camera = try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster))
                        #expect(camera.status == .created)
                        let test = try await client.send(.post, "/v1/webhook-endpoints/" + endpoint.id + "/test", keys(.partnerAdmin))
                        #expect(test.status == .accepted)
                        #expect(try await eventually { receiver.on("/ok/westminster").count == 2 })
                        let hooks = receiver.on("/ok/westminster")
                        #expect(Set(hooks.map(\.type)) == ["camera.created", "webhook.test"])
                        #expect(hooks.allSatisfy { $0.isSigned(by: secret) && $0.attempt == 1 })
                        #expect(hooks.allSatisfy { abs(Int($0.timestamp)! - Int(Date().timeIntervalSince1970)) < 30 })
                        let created = try #require(hooks.first { $0.type == "camera.created" })
                        let event = try await pool.withConnection {
                            try await $0.query("SELECT id FROM events WHERE type = 'camera.created'")[0].decode(0, as: UUID.self)
                        }
                        #expect(created.id == event.uuidString.lowercased())
                        #expect(created.body.count < 20_000)
                        #expect(created.json["timestamp"] as? String != nil)
                        // Camden hears of neither: not in the camera's audience, and the test was not its own.
                        try await Task.sleep(for: .milliseconds(500))
                        #expect(receiver.on("/ok/camden").isEmpty)
                        // Recorded a little after the receiver has them.
                        let recorded = try await eventually {
                            let log = try await client.send(.get, "/v1/webhook-endpoints/" + endpoint.id + "/deliveries", keys(.partnerAdmin))
                                .decode(DeliveryListBody.self)
                            return log.items.count == 2 && log.items.allSatisfy { $0.status == "succeeded" && $0.last_status_code == 204 }
                        }
                        #expect(recorded)
                    }
                }
            }
        }
    }

    @Test func aRotatedSecretSignsBesideTheNewOneAndAFailedAttemptIsRetriedWithTheSameID() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url, webhooks: testWebhookSettings) { client, keys in
                let receiver = WebhookReceiver()
                try await receiver.run { base in
                    let endpoint = try await client.register(base + "/flaky/westminster", keys(.partnerAdmin))
                    let old = try #require(endpoint.secret)
                    let rotated = try await client.send(.post, "/v1/webhook-endpoints/" + endpoint.id + "/rotate-secret", keys(.partnerAdmin))
                        .decode(EndpointBody.self)
                    let new = try #require(rotated.secret)
                    #expect(new != old)
                    let registry = PrometheusCollectorRegistry()
                    try await withDispatchers(1, url: url, metrics: WebhookMetrics(registry: registry)) {
                        #expect(try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster)).status == .created)
                        #expect(try await eventually { receiver.on("/flaky/westminster").count == 2 })
                        let hooks = receiver.on("/flaky/westminster")
                        // 500, then 204: the same event id, attempts 1 and 2, the same bytes, both secrets each time.
                        #expect(hooks.map(\.attempt) == [1, 2])
                        #expect(hooks[0].id == hooks[1].id && hooks[0].body == hooks[1].body)
                        #expect(hooks.allSatisfy { $0.isSigned(by: old) && $0.isSigned(by: new) && $0.signature.split(separator: " ").count == 2 })
                        let deliveries = try await client.send(.get, "/v1/webhook-endpoints/" + endpoint.id + "/deliveries", keys(.partnerAdmin))
                            .decode(DeliveryListBody.self)
                        let succeeded = try await eventually {
                            try await client.send(.get, "/v1/webhook-endpoints/" + endpoint.id + "/deliveries", keys(.partnerAdmin))
                                .decode(DeliveryListBody.self).items.first?.status == "succeeded"
                        }
                        #expect(succeeded)
                        #expect(deliveries.items.count == 1)
                        #expect(deliveries.items.first?.attempt_log == nil)
                        #expect(try await count("webhook_attempts", pool) == 2)
                        // Read alone, the delivery has its attempts, newest first: the 204, then the 500.
                        let delivery = try await client.send(.get, "/v1/webhook-deliveries/" + deliveries.items[0].id, keys(.partnerAdmin))
                        #expect(delivery.status == .ok, "\(delivery.text)")
                        let log = try #require(try delivery.decode(DeliveryBody.self).attempt_log)
                        #expect(log.map(\.attempt) == [2, 1])
                        #expect(log.map(\.status_code) == [204, 500])
                        #expect(log.map(\.error_class) == [nil, "http_status"] && log[1].error == "HTTP 500")
                        #expect(log.allSatisfy { ($0.timings_ms?.total ?? 0) > 0 && ($0.timings_ms?.connect ?? -1) >= 0 })
                        // Another organisation's key finds no such delivery.
                        let elsewhere = try await client.send(
                            .get, "/v1/webhook-deliveries/" + deliveries.items[0].id, keys(.partnerAdmin, of: TestKeys.mps)
                        )
                        #expect(elsewhere.status == .notFound)
                        // Both outcomes are counted (just after they are recorded), both attempts timed, and the queue's
                        // gauges are there.
                        let counted = try await eventually {
                            registry.emitToString().contains(#"sightline_webhook_deliveries_total{outcome="delivered"} 1"#)
                        }
                        #expect(counted)
                        let exposition = registry.emitToString()
                        #expect(exposition.contains(#"sightline_webhook_deliveries_total{outcome="retrying"} 1"#), "\(exposition)")
                        #expect(exposition.contains("sightline_webhook_attempt_duration_seconds_count 2"))
                        #expect(exposition.contains(#"sightline_webhook_queue_depth{endpoint_state="closed"}"#))
                    }
                }
            }
        }
    }

    @Test func aHangingEndpointTimesOutWithoutDelayingAnother() async throws {
        // `/hang` holds each request 8 s: twice the timeout.
        let settings = with(testWebhookSettings) { $0.timeout = .seconds(4) }
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url, webhooks: settings) { client, keys in
                let receiver = WebhookReceiver()
                try await receiver.run { base in
                    _ = try await client.register(base + "/hang/westminster", keys(.partnerAdmin))
                    _ = try await client.register(base + "/ok/mps", keys(.partnerAdmin, of: TestKeys.mps))
                    try await withDispatchers(1, url: url, settings: settings) {
                        // Ten cameras: every event goes to both (Westminster owns them; the MPS is police).
                        for _ in 0..<10 {
                            #expect(
                                try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster)).status == .created)
                        }
                        let start = ContinuousClock.now
                        // (Counted by event: on a loaded machine the healthy one may itself time out once and be sent
                        // an event again.)
                        #expect(try await eventually(.seconds(5)) { Set(receiver.on("/ok/mps").map(\.id)).count == 10 })
                        // All ten reached the healthy endpoint within one timeout of the hanging one.
                        #expect(ContinuousClock.now - start < settings.timeout)
                        let timedOut = try await eventually { try await count("webhook_attempts WHERE error_class = 'timeout'", pool) >= 1 }
                        #expect(timedOut)
                    }
                }
            }
        }
    }

    @Test func eventsAboutOneSubjectArriveInSequenceOrderAndTwoDispatchersSendEachAttemptOnce() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url, webhooks: testWebhookSettings) { client, keys in
                let receiver = WebhookReceiver()
                try await receiver.run { base in
                    _ = try await client.register(base + "/ok/westminster", keys(.partnerAdmin))
                    // Five cameras, each changed eight times, written before any dispatcher runs: a backlog of 45.
                    var cameras: [String] = []
                    for _ in 0..<5 {
                        let created = try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster))
                        cameras.append(try #require(try created.json()["id"] as? String))
                    }
                    for camera in cameras {
                        for version in 1...8 {
                            let changed = try await client.send(
                                .patch, "/v1/cameras/" + camera, keys(.operator), #"{"heading_deg": \#(version * 10)}"#, ifMatch: "\"\(version)\""
                            )
                            #expect(changed.status == .ok, "\(changed.text)")
                        }
                    }
                    try await withDispatchers(2, url: url) {
                        #expect(try await eventually(.seconds(15)) { receiver.on("/ok/westminster").count >= 45 })
                        try await Task.sleep(for: .milliseconds(500))
                    }
                    let hooks = receiver.on("/ok/westminster")
                    // Each event once: two dispatchers never sent one attempt twice.
                    #expect(hooks.count == 45)
                    #expect(Set(hooks.map(\.id)).count == 45)
                    // Per camera, the sequence rises with arrival.
                    for camera in cameras {
                        let sequences = hooks.filter { ($0.data["id"] as? String) == camera }.compactMap { $0.data["version"] as? Int }
                        #expect(sequences == Array(1...9), "camera \(camera): \(sequences)")
                    }
                }
            }
        }
    }

    @Test func anEndpointAnswering410IsDisabledAndItsOrganisationIsTold() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url, webhooks: testWebhookSettings) { client, keys in
                let receiver = WebhookReceiver()
                try await receiver.run { base in
                    let gone = try await client.register(base + "/gone/westminster", keys(.partnerAdmin), types: ["camera.created"])
                    _ = try await client.register(base + "/ok/westminster", keys(.partnerAdmin), types: ["webhook_endpoint.disabled"])
                    try await withDispatchers(1, url: url) {
                        #expect(try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster)).status == .created)
                        #expect(try await eventually { receiver.on("/ok/westminster").count == 1 })
                        let told = try #require(receiver.on("/ok/westminster").first)
                        #expect(told.type == "webhook_endpoint.disabled")
                        #expect(told.data["id"] as? String == gone.id && told.data["reason"] as? String == "gone")
                        let endpoint = try await client.send(.get, "/v1/webhook-endpoints/" + gone.id, keys(.partnerAdmin)).decode(EndpointBody.self)
                        #expect(!endpoint.enabled && endpoint.disabled_reason == "gone")
                        // Nothing more goes to it; enabling it sends what is pending.
                        let enabled = try await client.send(.post, "/v1/webhook-endpoints/" + gone.id + "/enable", keys(.partnerAdmin))
                            .decode(EndpointBody.self)
                        #expect(enabled.enabled && enabled.disabled_reason == nil)
                        #expect(try await eventually { receiver.on("/gone/westminster").count == 2 })
                    }
                }
            }
        }
    }

    @Test func aFailingEndpointIsParkedByItsCircuitAndDisabledAfterFiveDaysOfFailureOnAMovedClock() async throws {
        // The production breaker's five days, and retries a minute apart: the clock moves, nothing sleeps.
        let settings = with(testWebhookSettings) {
            $0.schedule = WebhookRetrySchedule(delays: Array(repeating: .seconds(60), count: 100), jitter: 0, longestRetryAfter: .seconds(60))
            $0.breaker = WebhookCircuitBreaker(threshold: 3, firstOpen: .seconds(600), longestOpen: .seconds(600), disableAfter: .seconds(5 * 86_400))
        }
        let clock = ManualClock()
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url, webhooks: settings, clock: clock) { client, keys in
                let receiver = WebhookReceiver()
                try await receiver.run { base in
                    let failing = try await client.register(base + "/fail/westminster", keys(.partnerAdmin), types: ["camera.created"])
                    _ = try await client.register(
                        base + "/ok/westminster", keys(.partnerAdmin), types: ["camera.created", "webhook_endpoint.disabled"])
                    let queue = WebhookQueue(Database(pool: pool, clock: clock))
                    @Sendable func settled() async throws -> Bool {
                        try await count("webhook_deliveries WHERE status = 'delivering'", pool) == 0
                    }
                    @Sendable func circuitOpen() async throws -> Bool {
                        try await pool.withConnection { connection in
                            try await connection.query(
                                "SELECT circuit_open_until > $2 FROM webhook_endpoints WHERE id = $1", UUID(uuidString: failing.id), clock.now()
                            )[0].decode(0, as: Bool?.self) ?? false
                        }
                    }
                    try await withDispatchers(1, url: url, settings: settings, clock: clock) { @Sendable () async throws in
                        for _ in 0..<4 {
                            #expect(
                                try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster)).status == .created)
                        }
                        // The healthy endpoint does not wait for the failing one, whose third failure in a row opens its circuit
                        // (a fourth attempt may already be on its way by then).
                        #expect(try await eventually { receiver.on("/ok/westminster").count == 4 })
                        #expect(
                            try await eventually {
                                guard try await settled() else { return false }
                                return try await circuitOpen()
                            }
                        )
                        // A minute on, the retries are due but the circuit is open: nothing may be claimed.
                        let failed = receiver.on("/fail/westminster").count
                        #expect((3...4).contains(failed))
                        clock.advance(by: .seconds(120))
                        #expect(try await queue.claim(limit: 10, perEndpoint: 8, lease: .seconds(30)).isEmpty)
                        // Ten minutes on, it is half open: one probe, which fails and opens it again.
                        clock.advance(by: .seconds(600))
                        #expect(try await eventually { receiver.on("/fail/westminster").count == failed + 1 })
                        #expect(
                            try await eventually {
                                guard try await settled() else { return false }
                                return try await circuitOpen()
                            }
                        )
                        #expect(receiver.on("/fail/westminster").count == failed + 1)
                        // Five days after the first failure, the next probe disables it, and its organisation is told.
                        clock.advance(by: .seconds(5 * 86_400))
                        #expect(try await eventually { receiver.on("/ok/westminster").count == 5 })
                        #expect(receiver.on("/fail/westminster").count == failed + 2)
                    }
                    let disabled = try #require(receiver.on("/ok/westminster").last)
                    #expect(disabled.type == "webhook_endpoint.disabled")
                    #expect(disabled.data["id"] as? String == failing.id && disabled.data["reason"] as? String == "failing")
                    let endpoint = try await client.send(.get, "/v1/webhook-endpoints/" + failing.id, keys(.partnerAdmin)).decode(EndpointBody.self)
                    #expect(!endpoint.enabled && endpoint.disabled_reason == "failing")
                    // Nothing is lost: the four wait, pending, for the endpoint to be enabled.
                    #expect(try await count("webhook_deliveries WHERE endpoint_id = '\(failing.id)' AND status = 'pending'", pool) == 4)
                    let audited = try await count(
                        "(SELECT action, entity_id FROM audit_log UNION ALL SELECT action, entity_id FROM audit_pending) a WHERE action = 'webhook_endpoint.disable' AND entity_id = '\(failing.id)'",
                        pool)
                    #expect(audited == 1)
                }
            }
        }
    }

    @Test func twoDispatchersTogetherKeepTheLimitOfDeliveriesInFlightToOneEndpoint() async throws {
        let settings = with(testWebhookSettings) { $0.perEndpoint = 2 }
        try await TestDatabase.withFresh { pool, url in
            let receiver = WebhookReceiver()
            try await receiver.run { base in
                // Twelve subjects, so that nothing but the limit keeps them from all going at once.
                try await westminsterEndpoint(base + "/slow/westminster", withEventsAbout: 12, pool)
                try await withDispatchers(2, url: url, settings: settings) {
                    let delivered = try await eventually(.seconds(20)) { receiver.all.count == 12 }
                    #expect(delivered)
                }
                #expect(receiver.mostSlowAtOnce == 2)
            }
        }
    }

    @Test func mutualTLSWithThePartnersOwnCertificateAuthority() async throws {
        let pki = try TestPKI()
        let other = try TestPKI(name: "Another CA")
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url, webhooks: testWebhookSettings) { client, keys in
                let receiver = WebhookReceiver()
                try await receiver.run(tls: try pki.serverConfiguration()) { base in
                    func register(_ name: String, ca: TestPKI?, identity: TestPKI.Identity?) async throws -> EndpointBody {
                        var body: [String: Any] = ["url": base + "/ok/" + name, "event_types": ["camera.created"]]
                        body["tls_ca_certificate"] = ca?.authority.certificatePEM
                        body["tls_client_certificate"] = identity?.certificatePEM
                        body["tls_client_key"] = identity?.keyPEM
                        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
                        let created = try await client.send(.post, "/v1/webhook-endpoints", keys(.partnerAdmin), json)
                        #expect(created.status == .created, "\(created.text)")
                        return try created.decode(EndpointBody.self)
                    }
                    let mutual = try await register("mutual", ca: pki, identity: pki.client)
                    let noClientCertificate = try await register("no-client-certificate", ca: pki, identity: nil)
                    let wrongClientCertificate = try await register("wrong-client-certificate", ca: pki, identity: other.client)
                    let systemTrust = try await register("system-trust", ca: nil, identity: pki.client)
                    let read = try await client.send(.get, "/v1/webhook-endpoints/" + mutual.id, keys(.partnerAdmin))
                    #expect(!read.text.contains("PRIVATE KEY") && read.text.contains(#""tls_client_key_set":true"#))
                    try await withDispatchers(1, url: url) {
                        #expect(try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster)).status == .created)
                        let delivered = try await eventually { receiver.on("/ok/mutual").count == 1 }
                        #expect(delivered)
                        for refused in [noClientCertificate, wrongClientCertificate, systemTrust] {
                            func last() async throws -> DeliveryBody? {
                                try await client.send(.get, "/v1/webhook-endpoints/" + refused.id + "/deliveries", keys(.partnerAdmin))
                                    .decode(DeliveryListBody.self).items.first
                            }
                            let failed = try await eventually { try await last()?.last_error_class == "tls" }
                            let found = try await last()
                            #expect(failed, "\(String(describing: found))")
                        }
                    }
                    #expect(receiver.all.map(\.path) == ["/ok/mutual"])
                    #expect(try #require(receiver.on("/ok/mutual").first).type == "camera.created")
                }
            }
        }
    }

    @Test func tlsMaterialThatCannotWorkIsRefusedAtRegistration() async throws {
        let pki = try TestPKI()
        let other = try TestPKI(name: "Another CA")
        let garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
        let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nbm90IGEga2V5\n-----END ENCRYPTED PRIVATE KEY-----\n"
        let cases: [(what: String, fields: [String: String], pointer: String, detail: String)] = [
            (
                "a certificate that is not one", ["tls_client_certificate": garbage, "tls_client_key": pki.client.keyPEM],
                "/tls_client_certificate", "is not a PEM certificate"
            ),
            (
                "another certificate's key", ["tls_client_certificate": pki.client.certificatePEM, "tls_client_key": other.client.keyPEM],
                "/tls_client_key", "is not the private key of tls_client_certificate"
            ),
            (
                "an expired certificate", ["tls_client_certificate": pki.expiredClient.certificatePEM, "tls_client_key": pki.expiredClient.keyPEM],
                "/tls_client_certificate", "expired on "
            ),
            (
                "an encrypted key", ["tls_client_certificate": pki.client.certificatePEM, "tls_client_key": encrypted],
                "/tls_client_key", "is encrypted"
            ),
            (
                "a CA bundle with a broken second certificate", ["tls_ca_certificate": pki.authority.certificatePEM + garbage],
                "/tls_ca_certificate", "is not a PEM certificate (certificate 2)"
            ),
        ]
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url, webhooks: testWebhookSettings) { client, keys in
                for (what, fields, pointer, detail) in cases {
                    var body: [String: Any] = ["url": "http://127.0.0.1:9/tls"]
                    for (name, value) in fields { body[name] = value }
                    let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
                    let refused = try await client.send(.post, "/v1/webhook-endpoints", keys(.partnerAdmin), json)
                    #expect(refused.status == .badRequest, "\(what): \(refused.text)")
                    let problem = try refused.decode(ProblemBody.self).errors?.first
                    #expect(problem?.pointer == pointer && problem?.detail.hasPrefix(detail) == true, "\(what): \(refused.text)")
                }
                #expect(try await count("webhook_endpoints", pool) == 0)
                // The same checks on a change: a valid endpoint cannot be given another certificate's key.
                let valid = try await client.register("http://127.0.0.1:9/tls", keys(.partnerAdmin))
                let patch = String(
                    decoding: try JSONSerialization.data(withJSONObject: [
                        "tls_client_certificate": pki.client.certificatePEM, "tls_client_key": other.client.keyPEM,
                    ]), as: UTF8.self)
                let changed = try await client.send(
                    .patch, "/v1/webhook-endpoints/" + valid.id, keys(.partnerAdmin), patch, ifMatch: "\"\(valid.version)\""
                )
                #expect(changed.status == .badRequest, "\(changed.text)")
                #expect(try changed.decode(ProblemBody.self).errors?.first?.pointer == "/tls_client_key")
            }
        }
    }

    @Test func anEventTooLargeForAWebhookCannotBeWritten() async throws {
        try await TestDatabase.withFresh { pool, _ in
            try await pool.withConnection { connection in
                let insert =
                    "INSERT INTO events (type, subject, sequence, audience, payload) VALUES ($1, $2, 1, '{}', jsonb_build_object('note', $3::text))"
                try await connection.query(insert, "camera.updated", "camera/fits", String(repeating: "x", count: 16_000))
                for (type, subject, note) in [
                    ("camera.updated", "camera/too-large", String(repeating: "x", count: 16_400)),
                    ("camera." + String(repeating: "a", count: 60), "camera/long-type", "x"),
                ] {
                    do {
                        try await connection.query(insert, type, subject, note)
                        Issue.record("an event of \(note.utf8.count) bytes with a type of \(type.utf8.count) was written")
                    } catch let error as PostgresError {
                        #expect(error.sqlState == "23514", "\(error)")
                    }
                }
            }
            #expect(try await count("events WHERE subject LIKE 'camera/%'", pool) == 1)
        }
    }

    @Test func redeliverAndRecoverSendAgainWithTheSameID() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url, webhooks: testWebhookSettings) { client, keys in
                let receiver = WebhookReceiver()
                try await receiver.run { base in
                    let endpoint = try await client.register(base + "/ok/westminster", keys(.partnerAdmin))
                    let since = Date().addingTimeInterval(-1)
                    try await withDispatchers(1, url: url) {
                        for _ in 0..<3 {
                            #expect(
                                try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster)).status == .created)
                        }
                        #expect(try await eventually { receiver.on("/ok/westminster").count == 3 })
                        // Received is not yet recorded: until it is, the delivery is in flight and cannot be sent again.
                        func deliveries() async throws -> [DeliveryBody] {
                            try await client.send(.get, "/v1/webhook-endpoints/" + endpoint.id + "/deliveries", keys(.partnerAdmin))
                                .decode(DeliveryListBody.self).items
                        }
                        let recorded = try await eventually { try await deliveries().filter { $0.status == "succeeded" }.count == 3 }
                        #expect(recorded)
                        let first = try #require(try await deliveries().first)
                        #expect(
                            try await client.send(.post, "/v1/webhook-deliveries/" + first.id + "/redeliver", keys(.partnerAdmin)).status == .accepted
                        )
                        #expect(try await eventually { receiver.on("/ok/westminster").count == 4 })
                        #expect(receiver.on("/ok/westminster").last?.id == first.event_id)
                        #expect(receiver.on("/ok/westminster").last?.attempt == 2)
                        let redelivered = try await eventually { try await deliveries().filter { $0.status == "succeeded" }.count == 3 }
                        #expect(redelivered)
                        // Another organisation cannot redeliver it.
                        #expect(
                            try await client.send(.post, "/v1/webhook-deliveries/" + first.id + "/redeliver", keys(.partnerAdmin, of: TestKeys.mps))
                                .status
                                == .notFound
                        )
                        let recovered = try await client.send(
                            .post, "/v1/webhook-endpoints/" + endpoint.id + "/recover", keys(.partnerAdmin), #"{"since": "\#(rfc3339(since))"}"#
                        )
                        #expect(recovered.status == .accepted)
                        #expect(try recovered.json()["queued"] as? Int == 3)
                        #expect(try await eventually { receiver.on("/ok/westminster").count == 7 })
                    }
                }
            }
        }
    }

    @Test(arguments: [
        ("https://127.0.0.1/hook", "not a public address"),
        ("https://[::1]/hook", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ("https://[::ffff:127.0.0.1]/hook", "not a public address"),
        ("https://10.1.2.3/hook", "not a public address"),
        ("https://localhost/hook", "not a public address"),
        ("http://93.184.215.14/hook", "must use https"),
        ("ftp://example.org/hook", "must use https"),
        ("https://user:pw@93.184.215.14/hook", "user name or password"),
        ("not a url", "not an absolute URL"),
    ])
    func privateAndPlainAddressesAreRefusedAtRegistration(url target: String, detail: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            // The operator allows nothing beyond the public internet.
            try await withApp(pool: pool, url: url, webhooks: WebhookSettings()) { client, keys in
                let refused = try await client.send(.post, "/v1/webhook-endpoints", keys(.partnerAdmin), #"{"url": "\#(target)"}"#)
                #expect(refused.status == .badRequest, "\(target): \(refused.text)")
                let problem = try refused.decode(ProblemBody.self)
                #expect(problem.errors?.first?.pointer == "/url")
                #expect(problem.errors?.first?.detail.contains(detail) == true, "\(target): \(refused.text)")
                #expect(try await count("webhook_endpoints", pool) == 0)
            }
        }
    }

    @Test func anAddressRefusedAtConnectTimeIsNotContacted() async throws {
        try await TestDatabase.withFresh { pool, url in
            // Registration allowed loopback; the dispatcher's policy (as after a change of configuration, or a
            // name that now resolves elsewhere) does not: libcurl's address hook refuses it.
            try await withApp(pool: pool, url: url, webhooks: testWebhookSettings) { client, keys in
                let receiver = WebhookReceiver()
                try await receiver.run { base in
                    _ = try await client.register(base + "/ok/westminster", keys(.partnerAdmin))
                    var strict = testWebhookSettings
                    strict.policy = WebhookAddressPolicy()
                    try await withDispatchers(1, url: url, settings: strict) {
                        #expect(try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster)).status == .created)
                        let refused = try await eventually { try await count("webhook_attempts WHERE error_class = 'refused_address'", pool) >= 1 }
                        #expect(refused)
                    }
                    #expect(receiver.all.isEmpty)
                }
            }
        }
    }

    @Test func aDispatcherKilledMidDeliveryLosesNothing() async throws {
        try await TestDatabase.withFresh { pool, url in
            let receiver = WebhookReceiver()
            try await receiver.run { base in
                try await westminsterEndpoint(base + "/hang-once/westminster", withEventsAbout: 1, pool)
                // The real binary, dispatching with a 2 s timeout (a 5 s lease), killed while its attempt hangs.
                let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "sightline").path
                let server = try ChildProcess(
                    binary, ["serve"],
                    environment: [
                        "SIGHTLINE_DATABASE_URL": TestDatabase.serverURL(url), "SIGHTLINE_HTTP_PORT": "0", "SIGHTLINE_WEBHOOK_TIMEOUT": "2",
                        "SIGHTLINE_WEBHOOK_ALLOW_CIDRS": "127.0.0.0/8",
                        "SIGHTLINE_EVIDENCE_DIR": FileManager.default.temporaryDirectory.path + "/sightline-kill-" + UUID().uuidString,
                    ]
                )
                let reached = try await eventually(.seconds(30)) { receiver.all.count == 1 }
                kill(server.pid, SIGKILL)
                _ = try await server.exitStatus()
                #expect(reached)
                let leased = try await count("webhook_deliveries WHERE status = 'delivering'", pool)
                #expect(leased == 1)
                // Another worker takes over once the dead one's lease has run out: its clock is moved past the lease.
                try await withDispatchers(1, url: url, clock: ManualClock(Date().addingTimeInterval(10))) {
                    let redelivered = try await eventually { receiver.all.count == 2 }
                    #expect(redelivered)
                    let succeeded = try await eventually { try await count("webhook_deliveries WHERE status = 'succeeded'", pool) == 1 }
                    #expect(succeeded)
                }
                let hooks = receiver.all
                #expect(hooks.map(\.attempt) == [1, 2])
                #expect(Set(hooks.map(\.id)).count == 1)
                // The dead dispatcher's attempt is logged as such, from when it was claimed.
                let log: [(attempt: Int32, errorClass: String?, before: Bool)] = try await pool.withConnection { connection in
                    try await connection.query(
                        """
                        SELECT attempt, error_class, started_at < (SELECT max(started_at) FROM webhook_attempts)
                        FROM webhook_attempts ORDER BY attempt
                        """
                    ).map { (try $0.decode(0), try $0.decode(1), try $0.decode(2)) }
                }
                #expect(log.map(\.attempt) == [1, 2] && log.map(\.errorClass) == ["lease_expired", nil] && log[0].before, "\(log)")
            }
        }
    }

    @Test func onlyKeysWithCovertAccessRegisterCovertEndpointsAndEventTypesAreChecked() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url, webhooks: testWebhookSettings) { client, keys in
                let covert = try await client.send(
                    .post, "/v1/webhook-endpoints", keys(.partnerAdmin), #"{"url": "http://127.0.0.1:9/x", "covert_access": true}"#
                )
                #expect(covert.status == .forbidden)
                let types = try await client.send(
                    .post, "/v1/webhook-endpoints", keys(.partnerAdmin),
                    #"{"url": "http://127.0.0.1:9/x", "event_types": ["camera.created", "camera.exploded"]}"#
                )
                #expect(types.status == .badRequest)
                let problem = try types.decode(ProblemBody.self)
                #expect(problem.errors?.first?.pointer == "/event_types/1")
                #expect(problem.detail == "/event_types/1 is not an event type.")
                #expect(try await count("webhook_endpoints", pool) == 0)
            }
        }
    }
}
