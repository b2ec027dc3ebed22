import API
import Crypto
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LibPQ
import Logging
import Storage
import Synchronization
import TestSupport
import Testing
import Webhooks

/// One request a receiver got.
struct ReceivedWebhook: Sendable {
    var path: String
    var id: String
    var timestamp: String
    var signature: String
    var attempt: Int
    var body: [UInt8]
    var at: ContinuousClock.Instant

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    var type: String { json["type"] as? String ?? "" }
    var data: [String: Any] { json["data"] as? [String: Any] ?? [:] }

    /// Whether one of the signatures is the HMAC-SHA256 of `id.timestamp.body` under `secret`, computed here
    /// with swift-crypto directly, not through the signing code under test.
    func isSigned(by secret: String) -> Bool {
        guard let key = Data(base64Encoded: String(secret.dropFirst("whsec_".count))) else { return false }
        let message = Data((id + "." + timestamp + ".").utf8) + Data(body)
        let expected = "v1," + Data(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))).base64EncodedString()
        return signature.split(separator: " ").contains { $0 == expected }
    }
}

/// A real HTTP receiver on a local port. `/ok/<name>` answers 204; `/flaky/<name>` answers 500 to the first
/// attempt of each webhook id and 204 after; `/hang/<name>` never answers in time, `/hang-once/<name>` not to
/// a first attempt; `/gone/<name>` answers 410.
final class WebhookReceiver: Sendable {
    private let received = Mutex<[ReceivedWebhook]>([])

    var all: [ReceivedWebhook] { received.withLock { $0 } }
    func on(_ path: String) -> [ReceivedWebhook] { all.filter { $0.path == path } }

    private func record(_ request: Request) async throws -> ReceivedWebhook {
        let body = try await request.body.collect(upTo: 1 << 20)
        func header(_ name: String) -> String { request.headers[HTTPField.Name(name)!] ?? "" }
        let hook = ReceivedWebhook(
            path: request.uri.path, id: header("webhook-id"), timestamp: header("webhook-timestamp"), signature: header("webhook-signature"),
            attempt: Int(header("webhook-attempt")) ?? 0, body: Array(buffer: body), at: .now
        )
        received.withLock { $0.append(hook) }
        return hook
    }

    func run(_ body: @Sendable (_ base: String) async throws -> Void) async throws {
        let router = Router()
        router.post("/ok/:name") { request, _ in
            _ = try await self.record(request)
            return Response(status: .noContent)
        }
        router.post("/flaky/:name") { request, _ in
            let hook = try await self.record(request)
            return Response(status: hook.attempt == 1 ? .internalServerError : .noContent)
        }
        router.post("/hang/:name") { request, _ in
            _ = try await self.record(request)
            try await Task.sleep(for: .seconds(4))
            return Response(status: .noContent)
        }
        router.post("/hang-once/:name") { request, _ in
            let hook = try await self.record(request)
            if hook.attempt == 1 { try await Task.sleep(for: .seconds(4)) }
            return Response(status: .noContent)
        }
        router.post("/gone/:name") { request, _ in
            _ = try await self.record(request)
            return Response(status: .gone)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { server in
            try await body("http://127.0.0.1:" + String(try #require(server.port)))
        }
    }
}

/// Settings for tests: the loopback block allowed, short timeouts and retries, a quick poll.
let testWebhookSettings = WebhookSettings(
    policy: WebhookAddressPolicy(allowed: [AddressBlock("127.0.0.0/8")!]), connectTimeout: .seconds(1), timeout: .seconds(1),
    concurrency: 32, perEndpoint: 8, pollInterval: .milliseconds(200),
    schedule: WebhookRetrySchedule(delays: [.milliseconds(200), .milliseconds(200), .milliseconds(200)], jitter: 0, longestRetryAfter: .seconds(1))
)

/// Runs `count` dispatchers (through the server's own database role) while `body` runs.
func withDispatchers(
    _ count: Int, url: String, settings: WebhookSettings = testWebhookSettings, _ body: @Sendable () async throws -> Void
) async throws {
    let pool = try TestDatabase.makePool(url: TestDatabase.serverURL(url), acquireTimeout: .seconds(30))
    let dispatchers = (0..<count).map { _ in WebhookDispatcher(pool: pool, settings: settings, metrics: nil, logger: TestDatabase.logger) }
    do {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for dispatcher in dispatchers { group.addTask { try await dispatcher.run() } }
            try await body()
            group.cancelAll()
        }
    } catch {
        await pool.close()
        throw error
    }
    await pool.close()
}

/// Waits up to `timeout` for `condition`.
func eventually(_ timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
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
                        let log = try await client.send(.get, "/v1/webhook-endpoints/" + endpoint.id + "/deliveries", keys(.partnerAdmin))
                            .decode(DeliveryListBody.self)
                        #expect(log.items.count == 2 && log.items.allSatisfy { $0.status == "succeeded" && $0.last_status_code == 204 })
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
                    try await withDispatchers(1, url: url) {
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
                        #expect(try await count("webhook_attempts", pool) == 2)
                    }
                }
            }
        }
    }

    @Test func aHangingEndpointTimesOutWithoutDelayingAnother() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url, webhooks: testWebhookSettings) { client, keys in
                let receiver = WebhookReceiver()
                try await receiver.run { base in
                    _ = try await client.register(base + "/hang/westminster", keys(.partnerAdmin))
                    _ = try await client.register(base + "/ok/mps", keys(.partnerAdmin, of: TestKeys.mps))
                    try await withDispatchers(1, url: url) {
                        // Ten cameras: every event goes to both (Westminster owns them; the MPS is police).
                        for _ in 0..<10 {
                            #expect(try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster)).status == .created)
                        }
                        let start = ContinuousClock.now
                        #expect(try await eventually(.seconds(5)) { receiver.on("/ok/mps").count == 10 })
                        // All ten reached the healthy endpoint well within one timeout of the hanging one.
                        #expect(ContinuousClock.now - start < .seconds(1))
                        let timedOut = try await eventually(.seconds(5)) { try await count("webhook_attempts WHERE error_class = 'timeout'", pool) >= 1 }
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

    @Test func redeliverAndRecoverSendAgainWithTheSameID() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url, webhooks: testWebhookSettings) { client, keys in
                let receiver = WebhookReceiver()
                try await receiver.run { base in
                    let endpoint = try await client.register(base + "/ok/westminster", keys(.partnerAdmin))
                    let since = Date().addingTimeInterval(-1)
                    try await withDispatchers(1, url: url) {
                        for _ in 0..<3 {
                            #expect(try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster)).status == .created)
                        }
                        #expect(try await eventually { receiver.on("/ok/westminster").count == 3 })
                        let deliveries = try await client.send(.get, "/v1/webhook-endpoints/" + endpoint.id + "/deliveries", keys(.partnerAdmin))
                            .decode(DeliveryListBody.self).items
                        let first = try #require(deliveries.first)
                        #expect(try await client.send(.post, "/v1/webhook-deliveries/" + first.id + "/redeliver", keys(.partnerAdmin)).status == .accepted)
                        #expect(try await eventually { receiver.on("/ok/westminster").count == 4 })
                        #expect(receiver.on("/ok/westminster").last?.id == first.event_id)
                        #expect(receiver.on("/ok/westminster").last?.attempt == 2)
                        // Another organisation cannot redeliver it.
                        #expect(
                            try await client.send(.post, "/v1/webhook-deliveries/" + first.id + "/redeliver", keys(.partnerAdmin, of: TestKeys.mps)).status
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
                try await pool.withConnection { connection in
                    try await connection.query(
                        "INSERT INTO webhook_endpoints (organisation_id, url, secret) VALUES ($1, $2, $3)",
                        TestKeys.westminster, base + "/hang-once/westminster", WebhookSecret.generate().text
                    )
                    try await connection.query(
                        """
                        INSERT INTO events (type, subject, sequence, audience, payload)
                        VALUES ('camera.created', 'camera/kill-test', 1, ARRAY[$1::uuid], '{"id": "kill-test", "version": 1}')
                        """,
                        TestKeys.westminster
                    )
                }
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
                // Another dispatcher takes over once the dead one's lease has run out.
                try await withDispatchers(1, url: url) {
                    let redelivered = try await eventually(.seconds(15)) { receiver.all.count == 2 }
                    #expect(redelivered)
                    let succeeded = try await eventually { try await count("webhook_deliveries WHERE status = 'succeeded'", pool) == 1 }
                    #expect(succeeded)
                }
                let hooks = receiver.all
                #expect(hooks.map(\.attempt) == [1, 2])
                #expect(Set(hooks.map(\.id)).count == 1)
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
                    .post, "/v1/webhook-endpoints", keys(.partnerAdmin), #"{"url": "http://127.0.0.1:9/x", "event_types": ["camera.created", "camera.exploded"]}"#
                )
                #expect(types.status == .badRequest)
                #expect(try types.decode(ProblemBody.self).errors?.first?.pointer == "/event_types/1")
                #expect(try await count("webhook_endpoints", pool) == 0)
            }
        }
    }
}
