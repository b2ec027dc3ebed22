import Crypto
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LibPQ
import Storage
import TestSupport
import Testing

@Suite("API: Idempotency-Key on creating POSTs")
struct IdempotencyTests {
    private let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    private let replayed = HTTPField.Name("Idempotent-Replayed")!

    /// Each operation's text in the contract, from its `operationId` line to the next operation's.
    static func operationBlocks() throws -> [String: String] {
        let contract = try String(contentsOf: repositoryRoot.appending(path: "openapi.yaml"), encoding: .utf8)
        var blocks: [String: String] = [:]
        var current: String?
        for line in contract.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("operationId:") {
                current = String(trimmed.dropFirst("operationId:".count)).trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("components:") {
                current = nil
            } else if let current {
                blocks[current, default: ""] += line + "\n"
            }
        }
        return blocks
    }

    @Test func everyCreatingOperationHonoursAndDeclaresTheHeader() throws {
        let blocks = try Self.operationBlocks()
        let creating = Set(blocks.filter { $0.value.contains("\"201\":") }.keys)
        #expect(!creating.isEmpty)
        #expect(creating == Idempotency.operations)
        for operation in creating {
            #expect(blocks[operation]?.contains("#/components/parameters/IdempotencyKey") == true, "\(operation)")
        }
    }

    private func keyCount(_ pool: PostgresPool) async throws -> Int {
        try await pool.withConnection { try await $0.query("SELECT count(*) FROM api_keys")[0].decode(0) }
    }

    @Test func theSameKeyAndBodyReplayTheFirstResponseByteForByte() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let headers = keys(.partnerAdmin).merging([.contentType: "application/json", idempotencyKey: "9f1c0e3a-retry-me"])
                let body = #"{"name": "desk", "role": "operator"}"#
                let before = try await keyCount(pool)
                let first = try await client.execute(uri: "/v1/api-keys", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(first.status == .created)
                #expect(first.headers[replayed] == nil)
                for _ in 0..<3 {
                    let again = try await client.execute(uri: "/v1/api-keys", method: .post, headers: headers, body: ByteBuffer(string: body))
                    #expect(again.status == .created)
                    #expect(again.body == first.body)
                    #expect(again.headers[.contentType] == first.headers[.contentType])
                    #expect(again.headers[replayed] == "true")
                }
                let after = try await keyCount(pool)
                #expect(after == before + 1)

                // Neither the Idempotency-Key nor the response (holding the new key's secret) is stored in clear.
                let secret = String(try first.decode(AuthorisationTests.CreatedKey.self).key.suffix(43))
                let stored = try await pool.withConnection { connection in
                    try await connection.query("SELECT key_hash, sealed_response FROM idempotency_keys")
                        .map { (try $0.decode(0, as: Data.self), try $0.decode(1, as: Data.self)) }
                }
                #expect(stored.count == 1)
                #expect(stored[0].0 == Data(SHA256.hash(data: Data("9f1c0e3a-retry-me".utf8))))
                #expect(stored[0].1.range(of: Data(secret.utf8)) == nil)
                #expect(stored[0].1.range(of: Data("desk".utf8)) == nil)
            }
        }
    }

    @Test func theSameKeyWithAnotherBodyIs422AndKeysBelongToTheirAPIKey() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let headers = keys(.partnerAdmin).merging([.contentType: "application/json", idempotencyKey: "k-1"])
                let first = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: headers, body: ByteBuffer(string: #"{"name": "a", "role": "operator"}"#)
                )
                #expect(first.status == .created)
                let other = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: headers, body: ByteBuffer(string: #"{"name": "b", "role": "operator"}"#)
                )
                #expect(other.status == .unprocessableContent)
                #expect(try other.decode(ProblemBody.self).type == "urn:sightline:problem:idempotency-key-reused")
                // Another API key's "k-1" is its own.
                let admin = keys(.admin).merging([.contentType: "application/json", idempotencyKey: "k-1"])
                let theirs = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: admin, body: ByteBuffer(string: #"{"name": "b", "role": "operator"}"#)
                )
                #expect(theirs.status == .created)
                #expect(theirs.headers[replayed] == nil)
            }
        }
    }

    @Test func aFailedRequestIsNotKeptSoACorrectedRetryRuns() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let headers = keys(.partnerAdmin).merging([.contentType: "application/json", idempotencyKey: "k-2"])
                let bad = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: headers, body: ByteBuffer(string: #"{"name": "", "role": "operator"}"#)
                )
                #expect(bad.status == .badRequest)
                let good = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: headers, body: ByteBuffer(string: #"{"name": "fixed", "role": "operator"}"#)
                )
                #expect(good.status == .created)
            }
        }
    }

    @Test(arguments: [String(repeating: "k", count: 256), "has space", "tab\there", "ünïcode"])
    func malformedKeysAre400NamingTheHeader(_ presented: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                var headers = keys(.partnerAdmin).merging([.contentType: "application/json"])
                headers.append(HTTPField(name: idempotencyKey, value: presented))
                let response = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: headers, body: ByteBuffer(string: #"{"name": "a", "role": "operator"}"#)
                )
                #expect(response.status == .badRequest)
                #expect(try response.decode(ProblemBody.self).errors?.first?.pointer == "#/parameters/Idempotency-Key")
                let count = try await pool.withConnection { try await $0.query("SELECT count(*) FROM idempotency_keys")[0].decode(0, as: Int.self) }
                #expect(count == 0)
            }
        }
    }

    @Test func concurrentRetriesCreateOnceAndOthersReplayOrAreToldToWait() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let headers = keys(.partnerAdmin).merging([.contentType: "application/json", idempotencyKey: "burst"])
                let before = try await keyCount(pool)
                let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                    for _ in 0..<12 {
                        group.addTask {
                            try await client.execute(
                                uri: "/v1/api-keys", method: .post, headers: headers,
                                body: ByteBuffer(string: #"{"name": "burst", "role": "analyst"}"#)
                            )
                        }
                    }
                    return try await group.reduce(into: [TestResponse]()) { $0.append($1) }
                }
                let created = responses.filter { $0.status == .created }
                let waiting = responses.filter { $0.status == .conflict }
                #expect(created.count + waiting.count == 12)
                #expect(created.filter { $0.headers[replayed] == nil }.count == 1)
                #expect(Set(created.map(\.body)).count == 1)
                #expect(waiting.allSatisfy { $0.headers[.retryAfter] == "1" })
                let after = try await keyCount(pool)
                #expect(after == before + 1)
            }
        }
    }

    @Test func anExpiredKeyIsFreeAgain() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let headers = keys(.partnerAdmin).merging([.contentType: "application/json", idempotencyKey: "old"])
                let first = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: headers, body: ByteBuffer(string: #"{"name": "a", "role": "operator"}"#)
                )
                #expect(first.status == .created)
                try await pool.withConnection { _ = try await $0.query("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'") }
                let fresh = try await client.execute(
                    uri: "/v1/api-keys", method: .post, headers: headers, body: ByteBuffer(string: #"{"name": "b", "role": "operator"}"#)
                )
                #expect(fresh.status == .created)
                #expect(fresh.headers[replayed] == nil)
                #expect(try await IdempotencyStore(Database(pool: pool)).purgeExpired(now: Date()) == 0)
            }
        }
    }
}

@Suite("Storage: idempotency claims")
struct IdempotencyStoreTests {
    @Test func claimsRunFinishAndExpireAsTheRulesSay() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let apiKey = try await pool.withConnection { try await $0.query("SELECT id FROM api_keys LIMIT 1").first?.decode(0, as: UUID.self) }
            let keyID: UUID
            if let apiKey {
                keyID = apiKey
            } else {
                keyID = try await APIKeyStore(Database(pool: pool)).create(
                    organisationID: TestKeys.mps, name: "i", role: .requester, covertAccess: false, expiresAt: nil, createdBy: nil,
                    actor: .commandLine("test")
                ).key.id
            }
            let store = IdempotencyStore(Database(pool: pool))
            let key = [UInt8](repeating: 1, count: 32)
            let request = [UInt8](repeating: 2, count: 32)
            func claim(_ request: [UInt8], lease: Duration = .seconds(60)) async throws -> IdempotencyClaim {
                try await store.claim(
                    apiKeyID: keyID, keyHash: key, operation: "createThing", requestHash: request, lease: lease, keepFor: .seconds(3600))
            }
            #expect(try await claim(request, lease: .zero) == .claimed)
            // A claim whose lease ran out (its server died) passes to a retry of the same request only.
            #expect(try await claim([UInt8](repeating: 3, count: 32)) == .mismatch)
            #expect(try await claim(request) == .claimed)
            #expect(try await claim(request) == .running)
            try await store.complete(apiKeyID: keyID, keyHash: key, sealedResponse: Data([9, 9]))
            #expect(try await claim(request) == .finished(sealedResponse: Data([9, 9])))
            try await store.release(apiKeyID: keyID, keyHash: key)
            #expect(try await claim(request) == .finished(sealedResponse: Data([9, 9])), "release leaves a finished key alone")
        }
    }
}
