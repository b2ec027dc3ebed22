import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LibPQ
import Storage
import TestSupport
import Testing

@Suite("API: authentication and the role × operation table")
struct AuthorisationTests {
    /// A request that reaches each operation; bodies are valid so that only authorisation can refuse them.
    static let requests: [String: (method: HTTPRequest.Method, path: String, body: String?)] = [
        "getHealth": (.get, "/healthz", nil),
        "getReadiness": (.get, "/readyz", nil),
        "getMetrics": (.get, "/metrics", nil),
        "getOpenAPIDocument": (.get, "/openapi.yaml", nil),
        "listOrganisations": (.get, "/v1/organisations", nil),
        "getOrganisation": (.get, "/v1/organisations/714c89a3-07f6-77ba-9c60-c9093f4e6a7f", nil),
        "listBoroughs": (.get, "/v1/boroughs", nil),
        "getBorough": (.get, "/v1/boroughs/E09000033", nil),
        "createAPIKey": (.post, "/v1/api-keys", #"{"name": "table test", "role": "analyst"}"#),
        "listAPIKeys": (.get, "/v1/api-keys", nil),
        "revokeAPIKey": (.post, "/v1/api-keys/00000000-0000-4000-8000-000000000000/revoke", nil),
        "listControlRooms": (.get, "/v1/control-rooms", nil),
        "getControlRoom": (.get, "/v1/control-rooms/00000000-0000-4000-8000-000000000000", nil),
        "createControlRoom": (.post, "/v1/control-rooms", #"{"name": "table test room", "boroughs_served": ["E09000033"]}"#),
        "updateControlRoom": (.patch, "/v1/control-rooms/00000000-0000-4000-8000-000000000000", "{}"),
        "listCameras": (.get, "/v1/cameras", nil),
        "getCamera": (.get, "/v1/cameras/00000000-0000-4000-8000-000000000000", nil),
        "createCamera": (.post, "/v1/cameras", #"{"kind": "fixed", "location": {"lat": 51.5136, "lon": -0.1365}}"#),
        "updateCamera": (.patch, "/v1/cameras/00000000-0000-4000-8000-000000000000", "{}"),
        "decommissionCamera": (.post, "/v1/cameras/00000000-0000-4000-8000-000000000000/decommission", "{}"),
        "exportCameras": (.get, "/v1/cameras/export?format=csv", nil),
        "importCameras": (
            .post, "/v1/cameras/import",
            #"{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-0.1, 51.5]}, "properties": {"kind": "fixed"}}]}"#
        ),
        "getCameraStatistics": (.get, "/v1/statistics/cameras?as_of=2023-12-31&group_by=kind", nil),
        "listEmbeddingArrangements": (.get, "/v1/embedding-arrangements", nil),
        "getEmbeddingArrangement": (.get, "/v1/embedding-arrangements/00000000-0000-4000-8000-000000000000", nil),
        "createEmbeddingArrangement": (
            .post, "/v1/embedding-arrangements",
            #"{"control_room_id": "00000000-0000-4000-8000-000000000000", "police_org_id": "714c89a3-07f6-77ba-9c60-c9093f4e6a7f", "model": "visiting", "starts_on": "2026-01-01"}"#
        ),
        "updateEmbeddingArrangement": (.patch, "/v1/embedding-arrangements/00000000-0000-4000-8000-000000000000", "{}"),
        "endEmbeddingArrangement": (.post, "/v1/embedding-arrangements/00000000-0000-4000-8000-000000000000/end", "{}"),
        "createEvidenceRequest": (
            .post, "/v1/evidence-requests",
            #"{"crime_reference": "CRIS 1/1", "offence": "theft", "priority": "standard", "authorised_by": "DS Table", "location": {"lat": 51.5136, "lon": -0.1365}, "window_from": "2026-01-01T10:00:00Z", "window_to": "2026-01-01T11:00:00Z"}"#
        ),
        "listEvidenceRequests": (.get, "/v1/evidence-requests", nil),
        "getEvidenceRequest": (.get, "/v1/evidence-requests/00000000-0000-4000-8000-000000000000", nil),
        "cancelEvidenceRequest": (.post, "/v1/evidence-requests/00000000-0000-4000-8000-000000000000/cancel", "{}"),
        "listEvidenceTasks": (.get, "/v1/evidence-tasks", nil),
        "getEvidenceTask": (.get, "/v1/evidence-tasks/00000000-0000-4000-8000-000000000000", nil),
        "transitionEvidenceTask": (.post, "/v1/evidence-tasks/00000000-0000-4000-8000-000000000000/transitions", #"{"action": "acknowledge"}"#),
        "registerEvidenceItem": (
            .post, "/v1/evidence-tasks/00000000-0000-4000-8000-000000000000/items",
            #"{"exhibit_ref": "AB/1", "file_name": "a.mp4", "format": "mp4", "size_bytes": 1, "sha256": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "recorded_from": "2026-01-01T10:00:00Z", "recorded_to": "2026-01-01T11:00:00Z"}"#
        ),
        "getEvidenceItem": (.get, "/v1/evidence-items/00000000-0000-4000-8000-000000000000", nil),
        "uploadEvidenceContent": (.put, "/v1/evidence-items/00000000-0000-4000-8000-000000000000/content", "x"),
        "downloadEvidenceContent": (.get, "/v1/evidence-items/00000000-0000-4000-8000-000000000000/content", nil),
        "handOverEvidenceItem": (.post, "/v1/evidence-items/00000000-0000-4000-8000-000000000000/handover", #"{"received_by": "PC 1"}"#),
        "listCustodyEvents": (.get, "/v1/evidence-items/00000000-0000-4000-8000-000000000000/custody", nil),
        "getValueForMoney": (.get, "/v1/analytics/value-for-money", nil),
        "listReports": (.get, "/v1/reports", nil),
        "getReport": (.get, "/v1/reports/00000000-0000-4000-8000-000000000000", nil),
        "listProposals": (.get, "/v1/proposals", nil),
        "getProposal": (.get, "/v1/proposals/00000000-0000-4000-8000-000000000000", nil),
        "createProposal": (
            .post, "/v1/proposals",
            #"{"title": "table test", "control_room_ids": ["00000000-0000-4000-8000-000000000000"], "host": {"name": "New room", "location": {"lat": 51.5, "lon": -0.1}, "operator_positions": 4}, "proposed_annual_cost_pence": 1}"#
        ),
        "updateProposal": (.patch, "/v1/proposals/00000000-0000-4000-8000-000000000000", "{}"),
        "transitionProposal": (.post, "/v1/proposals/00000000-0000-4000-8000-000000000000/transitions", #"{"action": "withdraw"}"#),
        "decideProposal": (
            .post, "/v1/proposals/00000000-0000-4000-8000-000000000000/decision",
            #"{"outcome": "approved", "reference": "PCD 167", "text": "Approved."}"#
        ),
        "listProposalEndorsements": (.get, "/v1/proposals/00000000-0000-4000-8000-000000000000/endorsements", nil),
        "recordProposalEndorsement": (.post, "/v1/proposals/00000000-0000-4000-8000-000000000000/endorsements", #"{"position": "support"}"#),
        "addProposalMilestone": (
            .post, "/v1/proposals/00000000-0000-4000-8000-000000000000/milestones", #"{"title": "Go-live", "due_on": "2027-01-01"}"#
        ),
        "updateProposalMilestone": (
            .patch, "/v1/proposals/00000000-0000-4000-8000-000000000000/milestones/00000000-0000-4000-8000-000000000000", "{}"
        ),
        "getProposalAppraisal": (.get, "/v1/proposals/00000000-0000-4000-8000-000000000000/appraisal", nil),
        "listEvents": (.get, "/v1/events", nil),
        "createWebhookEndpoint": (.post, "/v1/webhook-endpoints", #"{"url": "https://127.0.0.1/x"}"#),
        "listWebhookEndpoints": (.get, "/v1/webhook-endpoints", nil),
        "getWebhookEndpoint": (.get, "/v1/webhook-endpoints/00000000-0000-4000-8000-000000000000", nil),
        "updateWebhookEndpoint": (.patch, "/v1/webhook-endpoints/00000000-0000-4000-8000-000000000000", "{}"),
        "deleteWebhookEndpoint": (.delete, "/v1/webhook-endpoints/00000000-0000-4000-8000-000000000000", nil),
        "rotateWebhookSecret": (.post, "/v1/webhook-endpoints/00000000-0000-4000-8000-000000000000/rotate-secret", nil),
        "testWebhookEndpoint": (.post, "/v1/webhook-endpoints/00000000-0000-4000-8000-000000000000/test", nil),
        "enableWebhookEndpoint": (.post, "/v1/webhook-endpoints/00000000-0000-4000-8000-000000000000/enable", nil),
        "recoverWebhookEndpoint": (
            .post, "/v1/webhook-endpoints/00000000-0000-4000-8000-000000000000/recover", #"{"since": "2026-01-01T00:00:00Z"}"#
        ),
        "listWebhookDeliveries": (.get, "/v1/webhook-endpoints/00000000-0000-4000-8000-000000000000/deliveries", nil),
        "getWebhookDelivery": (.get, "/v1/webhook-deliveries/00000000-0000-4000-8000-000000000000", nil),
        "redeliverWebhook": (.post, "/v1/webhook-deliveries/00000000-0000-4000-8000-000000000000/redeliver", nil),
        "listAuditLog": (.get, "/v1/audit", nil),
        "verifyAuditLog": (.get, "/v1/audit/verify", nil),
    ]

    @Test func everyOperationInTheContractHasAnEntryInTheTableAndARequestHere() throws {
        let contract = try String(contentsOf: repositoryRoot.appending(path: "openapi.yaml"), encoding: .utf8)
        let operations = Set(
            contract.split(separator: "\n").compactMap { line -> String? in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                return trimmed.hasPrefix("operationId:") ? String(trimmed.dropFirst("operationId:".count)).trimmingCharacters(in: .whitespaces) : nil
            })
        #expect(operations.count >= 11)
        #expect(Set(Permissions.table.keys) == operations)
        #expect(Set(Self.requests.keys) == operations)
    }

    @Test func eachRoleReachesExactlyTheOperationsItsRowAllows() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                for (operation, request) in Self.requests.sorted(by: { $0.key < $1.key }) {
                    for role in Role.allCases {
                        let response = try await client.execute(
                            uri: request.path, method: request.method,
                            headers: keys(role).merging([.contentType: "application/json"]),
                            body: request.body.map { ByteBuffer(string: $0) }
                        )
                        if Permissions.allows(role, operation) {
                            #expect(response.status != .forbidden && response.status != .unauthorized, "\(role) \(operation): \(response.status)")
                        } else {
                            #expect(response.status == .forbidden, "\(role) \(operation): \(response.status)")
                            #expect(try response.decode(ProblemBody.self).type == "urn:sightline:problem:forbidden")
                        }
                    }
                }
            }
        }
    }

    @Test func everyBadKeyGetsTheSame401() async throws {
        try await TestDatabase.withFresh { pool, url in
            let store = APIKeyStore(Database(pool: pool))
            let revoked = try await store.create(
                organisationID: TestKeys.mps, name: "r", role: .requester, covertAccess: false, expiresAt: nil, createdBy: nil,
                actor: .commandLine("test"))
            _ = try await store.revoke(id: revoked.key.id, actor: .commandLine("test"))
            let expiring = try await store.create(
                organisationID: TestKeys.mps, name: "e", role: .requester, covertAccess: false, expiresAt: Date(timeIntervalSinceNow: 60),
                createdBy: nil, actor: .commandLine("test")
            )
            // The server's clock is two minutes on: the key that expires in one has expired, with no wait.
            try await withApp(pool: pool, url: url, clock: ManualClock(Date(timeIntervalSinceNow: 120))) { client, keys in
                let valid = keys.token(.requester, of: TestKeys.mps)
                let wrongSecret = String(valid.dropLast(4)) + (valid.hasSuffix("AAAA") ? "BBBB" : "AAAA")
                let unknown = "sl_live_zzzzzzzzzzzz_" + String(valid.suffix(43))
                let attempts: [(String, String?)] = [
                    ("missing", nil), ("not bearer", "Basic dXNlcjpwYXNz"), ("malformed", "Bearer not-a-key"), ("empty bearer", "Bearer "),
                    ("unknown prefix", "Bearer " + unknown), ("wrong secret", "Bearer " + wrongSecret), ("revoked", "Bearer " + revoked.token.text),
                    ("expired", "Bearer " + expiring.token.text), ("injection", "Bearer sl_live_' OR 1=1 --"),
                ]
                var bodies: Set<String> = []
                for (what, header) in attempts {
                    let response = try await client.execute(
                        uri: "/v1/boroughs/E09000033", method: .get, headers: header.map { [.authorization: $0] } ?? [:]
                    )
                    #expect(response.status == .unauthorized, "\(what)")
                    #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"sightline\"")
                    var object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                    object["request_id"] = nil
                    bodies.insert(String(decoding: try JSONSerialization.data(withJSONObject: object, options: .sortedKeys), as: UTF8.self))
                }
                #expect(bodies.count == 1)
                let ok = try await client.execute(uri: "/v1/boroughs/E09000033", method: .get, headers: [.authorization: "Bearer " + valid])
                #expect(ok.status == .ok)
            }
        }
    }

    struct CreatedKey: Decodable {
        let id: String
        let key: String
        let prefix: String
        let organisation_id: String
        let role: String
    }
    struct KeyList: Decodable {
        let items: [ListedKey]
        let next_cursor: String?
    }
    struct ListedKey: Decodable {
        let id: String
        let prefix: String
        let organisation_id: String
        let revoked_at: String?
        let last_used_at: String?
    }

    @Test func partnerAdminsManageTheirOwnOrganisationsKeys() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let partner = keys(.partnerAdmin, of: TestKeys.westminster).merging([.contentType: "application/json"])
                let created = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: partner,
                    body: ByteBuffer(string: #"{"name": "CCTV desk 2 '; DROP TABLE api_keys; --", "role": "operator"}"#)
                )
                #expect(created.status == .created)
                let key = try created.decode(CreatedKey.self)
                #expect(key.organisation_id == TestKeys.westminster.uuidString.lowercased())
                #expect(key.key.contains(key.prefix))

                // The new key works at once, and its use is recorded.
                let used = try await client.execute(uri: "/v1/boroughs/E09000033", method: .get, headers: [.authorization: "Bearer " + key.key])
                #expect(used.status == .ok)

                let list = try await client.execute(uri: "/v1/api-keys?limit=500", method: .get, headers: partner)
                let listed = try list.decode(KeyList.self)
                #expect(listed.items.allSatisfy { $0.organisation_id == TestKeys.westminster.uuidString.lowercased() })
                #expect(listed.items.first { $0.id == key.id }?.last_used_at != nil)
                #expect(!list.text.contains(String(key.key.suffix(43))))
                #expect(!list.text.contains("secret"))

                // Another organisation's keys are invisible; creating for it, or an admin key, is refused.
                let mpsKey = try await APIKeyStore(Database(pool: pool)).list(organisationID: TestKeys.mps, page: PageRequest(limit: 1, cursor: nil))
                    .items[0]
                let foreign = try await client.execute(uri: "/v1/api-keys/\(mpsKey.id.uuidString)/revoke", method: .post, headers: partner)
                #expect(foreign.status == .notFound)
                let missing = try await client.execute(uri: "/v1/api-keys/\(UUID().uuidString)/revoke", method: .post, headers: partner)
                #expect(try foreign.decode(ProblemBody.self).detail == (try missing.decode(ProblemBody.self)).detail)
                let crossOrg = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: partner,
                    body: ByteBuffer(string: #"{"name": "x", "role": "operator", "organisation_id": "\#(TestKeys.mps.uuidString)"}"#)
                )
                #expect(crossOrg.status == .forbidden)
                let escalate = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: partner, body: ByteBuffer(string: #"{"name": "x", "role": "admin"}"#))
                #expect(escalate.status == .forbidden)
                let peek = try await client.execute(uri: "/v1/api-keys?organisation_id=\(TestKeys.mps.uuidString)", method: .get, headers: partner)
                #expect(peek.status == .forbidden)

                // Revocation takes effect at once.
                let revoked = try await client.execute(uri: "/v1/api-keys/\(key.id)/revoke", method: .post, headers: partner)
                #expect(revoked.status == .ok)
                let after = try await client.execute(uri: "/v1/boroughs/E09000033", method: .get, headers: [.authorization: "Bearer " + key.key])
                #expect(after.status == .unauthorized)

                // The stored name is exactly what was sent.
                let stored = try await APIKeyStore(Database(pool: pool)).get(id: UUID(uuidString: key.id)!)
                #expect(stored?.name == "CCTV desk 2 '; DROP TABLE api_keys; --")
            }
        }
    }

    @Test func adminsManageAnyOrganisationsKeys() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let admin = keys(.admin).merging([.contentType: "application/json"])
                let created = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: admin,
                    body: ByteBuffer(
                        string:
                            #"{"name": "BTP investigator", "role": "requester", "covert_access": true, "organisation_id": "e8d16a0b-eff5-b6b7-c5a2-b3e045ee70ef"}"#
                    )
                )
                #expect(created.status == .created)
                let all = try await client.execute(uri: "/v1/api-keys?limit=500", method: .get, headers: admin)
                let orgs = Set(try all.decode(KeyList.self).items.map(\.organisation_id))
                #expect(orgs.count == 5)  // Westminster, the MPS, TfL and the platform operator (see TestKeys), and the BTP key just made
                let paged = try await client.execute(uri: "/v1/api-keys?limit=5", method: .get, headers: admin)
                let first = try paged.decode(KeyList.self)
                let cursor = try #require(first.next_cursor)
                let second = try await client.execute(uri: "/v1/api-keys?limit=5&cursor=\(cursor)", method: .get, headers: admin)
                #expect(Set(first.items.map(\.id)).isDisjoint(with: Set(try second.decode(KeyList.self).items.map(\.id))))
            }
        }
    }

    @Test(arguments: [
        (#"{"role": "analyst"}"#, "/name"), (#"{"name": "x"}"#, "/role"), (#"{"name": "x", "role": "emperor"}"#, "/role"),
        (#"{"name": "", "role": "analyst"}"#, "/name"), (#"{"name": "x", "role": "analyst", "expires_at": "2001-01-01T00:00:00Z"}"#, "/expires_at"),
        (#"{"name": "x", "role": "analyst", "organisation_id": "nope"}"#, "/organisation_id"),
        (#"{"name": "x", "role": "analyst", "organisation_id": "00000000-0000-4000-8000-000000000000"}"#, "/organisation_id"),
        // An admin key belongs to the platform operator, not to a borough.
        (#"{"name": "x", "role": "admin", "organisation_id": "39f0efa5-39b0-171a-600e-9c488329159e"}"#, "/role"),
    ])
    func invalidKeyRequestsAre400sNamingTheField(body: String, pointer: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let response = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: keys(.admin).merging([.contentType: "application/json"]),
                    body: ByteBuffer(string: body)
                )
                #expect(response.status == .badRequest, "\(body)")
                let problem = try response.decode(ProblemBody.self)
                #expect(problem.errors?.map(\.pointer).contains(pointer) == true, "\(body): \(String(describing: problem.errors))")
                let count: Int = try await pool.withConnection {
                    try await $0.query("SELECT count(*) FROM api_keys WHERE name = 'x' OR name = ''")[0].decode(0)
                }
                #expect(count == 0)
            }
        }
    }

    struct AuditPage: Decodable {
        let items: [AuditRow]
        let next_cursor: String?
    }
    struct AuditRow: Decodable {
        let seq: Int
        let action: String
        let outcome: String
        let key_prefix: String?
        let organisation_id: String?
        let request_id: String?
        let client_address: String?
        let entity_id: String?
        let detail: [String: Scalar]
    }

    /// A value of an audit row's detail, which keeps its JSON type.
    enum Scalar: Decodable, Equatable, ExpressibleByStringLiteral {
        case text(String)
        case number(Double)
        case flag(Bool)
        case none

        init(stringLiteral value: String) { self = .text(value) }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .none
            } else if let flag = try? container.decode(Bool.self) {
                self = .flag(flag)
            } else if let number = try? container.decode(Double.self) {
                self = .number(number)
            } else {
                self = .text(try container.decode(String.self))
            }
        }

        var text: String? { if case .text(let text) = self { text } else { nil } }
    }
    struct Verification: Decodable {
        let valid: Bool
        let checked: Int
        let first_broken_seq: Int?
    }

    @Test func refusalsAndKeyChangesAreAuditedAndAuditorsSeeTheirOwnOrganisation() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let unknown = "sl_live_zzzzzzzzzzzz_" + String(repeating: "Q", count: 43)
                let refused = try await client.execute(uri: "/v1/boroughs", method: .get, headers: [.authorization: "Bearer " + unknown])
                #expect(refused.status == .unauthorized)
                let forbidden = try await client.execute(uri: "/v1/api-keys", method: .get, headers: keys(.analyst))
                #expect(forbidden.status == .forbidden)
                let created = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: keys(.partnerAdmin).merging([.contentType: "application/json"]),
                    body: ByteBuffer(string: #"{"name": "desk", "role": "operator"}"#)
                )
                let key = try created.decode(CreatedKey.self)
                _ = try await client.execute(uri: "/v1/api-keys/\(key.id)/revoke", method: .post, headers: keys(.partnerAdmin))

                // An admin sees every row, including failed authentication by a key nobody owns.
                let all = try await client.execute(uri: "/v1/audit?limit=500", method: .get, headers: keys(.admin)).decode(AuditPage.self)
                let authentication = try #require(all.items.first { $0.action == "authenticate" })
                #expect(authentication.outcome == "denied")
                #expect(authentication.key_prefix == "zzzzzzzzzzzz")
                #expect(authentication.detail["reason"] == "unknown key")
                #expect(authentication.request_id == refused.headers[HTTPField.Name("X-Request-Id")!])
                let authorise = try #require(all.items.first { $0.action == "authorise" })
                #expect(authorise.detail["operation"] == "listAPIKeys")
                let creation = try #require(all.items.first { $0.action == "api_key.create" && $0.entity_id == key.id && $0.outcome == "success" })
                // Booleans stay booleans in the detail.
                #expect(creation.detail["covert_access"] == .flag(false) && creation.detail["role"] == "operator")
                #expect(all.items.contains { $0.action == "api_key.revoke" && $0.entity_id == key.id })
                #expect(all.items.allSatisfy { !$0.detail.values.contains { $0.text?.contains(String(key.key.suffix(43))) == true } })

                // A police auditor sees none of Westminster's rows.
                let police = try await client.execute(uri: "/v1/audit?limit=500", method: .get, headers: keys(.auditor, of: TestKeys.mps))
                #expect(try police.decode(AuditPage.self).items.allSatisfy { $0.organisation_id == TestKeys.mps.uuidString.lowercased() })
                let westminster = try await client.execute(uri: "/v1/audit?action=api_key.create", method: .get, headers: keys(.auditor))
                #expect(try westminster.decode(AuditPage.self).items.map(\.entity_id) == [key.id])

                let verification = try await client.execute(uri: "/v1/audit/verify", method: .get, headers: keys(.auditor)).decode(Verification.self)
                // Every row so far: one per test key (made as if at the command line) and the four above.
                #expect(verification.valid && verification.checked == TestKeys.count + 4)
            }
        }
    }

    @Test func keysOverTheirAllowanceGet429WithRetryAfter() async throws {
        let rateLimit = HTTPField.Name("RateLimit")!
        let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
        try await TestDatabase.withFresh { pool, url in
            // One request every 4 s after a burst of 3: slow enough that the four requests below fit before a
            // token comes back even when every suite runs at once (at one a second, a loaded run once let the
            // fourth through).
            try await withApp(pool: pool, url: url, rateLimit: RateLimitPolicy(perSecond: 0.25, burst: 3)) { client, keys in
                for remaining in [2, 1, 0] {
                    let response = try await client.execute(uri: "/v1/boroughs/E09000001", method: .get, headers: keys(.analyst))
                    #expect(response.status == .ok)
                    #expect(response.headers[rateLimit]?.hasPrefix("\"per-key\";r=\(remaining);t=") == true)
                    #expect(response.headers[rateLimitPolicy] == "\"per-key\";q=3;w=12")
                }
                let limited = try await client.execute(uri: "/v1/boroughs/E09000001", method: .get, headers: keys(.analyst))
                #expect(limited.status == .tooManyRequests)
                let retryAfter = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
                #expect((1...4).contains(retryAfter))
                #expect(limited.headers[rateLimit] == "\"per-key\";r=0;t=\(retryAfter)")
                #expect(try limited.decode(ProblemBody.self).type == "urn:sightline:problem:too-many-requests")
                // The allowance is per key: another key of the same organisation is served.
                let other = try await client.execute(uri: "/v1/boroughs/E09000001", method: .get, headers: keys(.operator))
                #expect(other.status == .ok)
                // Operations that need no key are never limited.
                #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
                try await Task.sleep(for: .seconds(retryAfter) + .milliseconds(100))
                #expect(try await client.execute(uri: "/v1/boroughs/E09000001", method: .get, headers: keys(.analyst)).status == .ok)
            }
        }
    }

    @Test func floodsOfBadKeysAreLimitedPerAddressAndAuditedOnlyUpToTheLimit() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let burst = RateLimitPolicy.failedAuthentication.burst
                var statuses: [HTTPResponse.Status] = []
                let start = ContinuousClock.now
                for index in 0..<(burst + 5) {
                    let bad = "sl_live_zzzzzzzzzzzz_" + String(repeating: index % 2 == 0 ? "Q" : "R", count: 43)
                    let response = try await client.execute(uri: "/v1/boroughs", method: .get, headers: [.authorization: "Bearer " + bad])
                    statuses.append(response.status)
                    if response.status == .tooManyRequests {
                        #expect(response.headers[.retryAfter] != nil)
                        #expect(response.headers[HTTPField.Name("RateLimit-Policy")!]?.hasPrefix("\"failed-authentication\"") == true)
                    }
                }
                // The burst is answered 401, then 429 — save the one failure per 3 s the bucket refills while this runs
                // (a slow machine takes seconds over 25 requests).
                let refilled = Int((ContinuousClock.now - start) / .seconds(3)) + 1
                let answered = statuses.filter { $0 == .unauthorized }.count
                #expect(Array(statuses.prefix(burst)) == Array(repeating: .unauthorized, count: burst))
                #expect(statuses.allSatisfy { $0 == .unauthorized || $0 == .tooManyRequests })
                #expect(answered - burst <= min(refilled, 4), "\(statuses)")
                // A valid key from the same address is still served: only failures are limited.
                #expect(try await client.execute(uri: "/v1/boroughs", method: .get, headers: keys(.analyst)).status == .ok)
                // Only the failures answered 401 are audited, one row each.
                let audited = try await AuditStore(Database(pool: pool)).list(
                    organisationID: nil, action: "authenticate", page: PageRequest(limit: 500, cursor: nil))
                #expect(audited.items.count == answered)
            }
        }
    }

    @Test func malformedJSONAndWrongContentTypesAreClientErrors() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let broken = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: keys(.admin).merging([.contentType: "application/json"]),
                    body: ByteBuffer(string: "{nope")
                )
                #expect(broken.status == .badRequest)
                #expect(try broken.decode(ProblemBody.self).type == "urn:sightline:problem:malformed-request")
                let text = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: keys(.admin).merging([.contentType: "text/plain"]), body: ByteBuffer(string: "hello")
                )
                #expect(text.status == .unsupportedMediaType)
                #expect(try text.decode(ProblemBody.self).type == "urn:sightline:problem:unsupported-media-type")
            }
        }
    }
}

extension HTTPFields {
    /// These fields with `other`'s added.
    func merging(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        for field in other { merged.append(field) }
        return merged
    }
}
