import API
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LibPQ
import Storage
import TestSupport
import Webhooks

/// Runs `body` against the real router, in process, with keys for every role of Westminster City Council and of
/// the Metropolitan Police Service, made through `pool` (the schema owner's).
///
/// With the database's `url`, the router connects as the server's own role (`sightline_server`, a member of
/// `sightline_app`), so every API test also proves the grants suffice; without it, through `pool`.
func withApp(
    pool: PostgresPool,
    url: String?,
    maxBodyBytes: Int = 1 << 20,
    seedKeys: Bool = true,
    rateLimit: RateLimitPolicy = RateLimitPolicy(perSecond: 10_000, burst: 10_000),
    evidence: EvidenceSettings = EvidenceSettings(
        directory: FileManager.default.temporaryDirectory.path + "/sightline-evidence-" + UUID().uuidString),
    testing: TestingSetup = .router,
    acquireTimeout: Duration = .seconds(5),
    webhooks: WebhookSettings = WebhookSettings(),
    clock: any WallClock = SystemClock(),
    _ body: @Sendable (any TestClientProtocol, TestKeys) async throws -> Void
) async throws {
    let keys = seedKeys ? try await TestKeys(pool: pool) : TestKeys()
    let serverPool = try url.map { try TestDatabase.makePool(url: TestDatabase.serverURL($0), acquireTimeout: acquireTimeout) } ?? pool
    let router = try SightlineServer.makeRouter(
        Database(pool: serverPool, clock: clock), migrator: try Migrator(logger: TestDatabase.logger), metrics: APIMetrics(),
        maxBodyBytes: maxBodyBytes, rateLimit: rateLimit, evidence: evidence, webhooks: webhooks
    )
    let app = SightlineServer.makeApplication(router: router, host: "127.0.0.1", port: 0, logger: TestDatabase.logger)
    do {
        try await app.test(testing) { client in try await body(client, keys) }
        if url != nil { await serverPool.close() }
    } catch {
        if url != nil { await serverPool.close() }
        throw error
    }
    try? FileManager.default.removeItem(atPath: evidence.directory)
}

/// One key per role for a borough and a police force, made directly in the database.
struct TestKeys: Sendable {
    static let westminster = UUID(uuidString: "39f0efa5-39b0-171a-600e-9c488329159e")!
    static let mps = UUID(uuidString: "714c89a3-07f6-77ba-9c60-c9093f4e6a7f")!
    static let tfl = UUID(uuidString: "8faea54b-a4e1-a04e-465a-927402c07dc5")!
    static let camden = UUID(uuidString: "18a88dbb-3970-256d-452f-c6153a255642")!
    /// Keys with covert access, beside the plain key of every role: a borough's operator, a police
    /// investigator and a transport operator (neither owner nor police), plus TfL's plain operator.
    static let covertKeys: [(organisation: UUID, role: Role, covert: Bool)] = [
        (westminster, .operator, true), (mps, .requester, true), (tfl, .operator, true), (tfl, .operator, false),
    ]
    /// How many keys `init(pool:)` makes: every role but admin for each organisation, one platform admin, and
    /// the covert keys.
    static var count: Int { 2 * (Role.allCases.count - 1) + 1 + covertKeys.count }

    private let tokens: [String: String]
    /// Any key that may read reference data.
    var analyst: HTTPFields { self(.analyst) }

    init(pool: PostgresPool) async throws {
        let store = APIKeyStore(Database(pool: pool))
        var tokens: [String: String] = [:]
        for organisation in [Self.westminster, Self.mps] {
            for role in Role.allCases where role != .admin {
                let (_, token) = try await store.create(
                    organisationID: organisation, name: "test \(role.rawValue)", role: role, covertAccess: false, expiresAt: nil, createdBy: nil,
                    actor: .commandLine("test")
                )
                tokens["\(organisation)/\(role.rawValue)"] = token.text
            }
        }
        // One admin key, the platform operator's, whichever organisation a test asks it of.
        let platform: UUID = try await pool.withConnection { connection in
            try await connection.query("SELECT id FROM organisations WHERE kind = 'platform'")[0].decode(0)
        }
        let (_, admin) = try await store.create(
            organisationID: platform, name: "test admin", role: .admin, covertAccess: false, expiresAt: nil, createdBy: nil,
            actor: .commandLine("test"))
        for organisation in [Self.westminster, Self.mps] { tokens["\(organisation)/admin"] = admin.text }
        for (organisation, role, covert) in Self.covertKeys {
            let (_, token) = try await store.create(
                organisationID: organisation, name: "test extra", role: role, covertAccess: covert, expiresAt: nil, createdBy: nil,
                actor: .commandLine("test")
            )
            tokens["\(organisation)/\(role.rawValue)" + (covert ? "/covert" : "")] = token.text
        }
        self.tokens = tokens
    }

    /// No keys: every token is well-formed but unknown (for a database that cannot be reached).
    init() { tokens = [:] }

    /// The whole key of `role` in `organisation`.
    func token(_ role: Role, of organisation: UUID = TestKeys.westminster) -> String {
        tokens["\(organisation)/\(role.rawValue)"] ?? "sl_live_unknown00000_" + String(repeating: "A", count: 43)
    }

    /// An Authorization header with the key of `role` in `organisation` that has covert access (see `covertKeys`).
    func covert(_ role: Role, of organisation: UUID) -> HTTPFields {
        [.authorization: "Bearer " + (tokens["\(organisation)/\(role.rawValue)/covert"] ?? "missing"), Self.person: Self.personNamed(role)]
    }

    /// The `Sightline-Person` header every key's requests carry, as a person at that key would send it.
    static let person = HTTPField.Name(NamedPerson.header)!

    /// The person at a key of `role`: `TEST-<ROLE> Test <role>`.
    static func personNamed(_ role: Role) -> String { "TEST-" + role.rawValue.uppercased() + " Test " + role.rawValue }

    /// An Authorization header with the key of `role` in `organisation`.
    func callAsFunction(_ role: Role, of organisation: UUID = TestKeys.westminster) -> HTTPFields {
        [.authorization: "Bearer " + token(role, of: organisation), Self.person: Self.personNamed(role)]
    }
}

/// The fields of a problem document the tests look at.
struct ProblemBody: Decodable {
    let type: String
    let title: String
    let status: Int
    let detail: String?
    let instance: String?
    let request_id: String?
    let errors: [FieldError]?
    let allow: [String]?
    let allowed_actions: [String]?

    struct FieldError: Decodable, Equatable {
        let pointer: String
        let detail: String
    }
}

extension TestResponse {
    /// The body decoded as `T`.
    func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(buffer: body))
    }

    /// The body as text.
    var text: String { String(buffer: body) }
}

/// The repository's root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
