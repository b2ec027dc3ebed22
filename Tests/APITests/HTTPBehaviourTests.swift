import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LibPQ
import Storage
import TestSupport
import Testing

@testable import API

@Suite("API: operational endpoints, errors and request ids")
struct HTTPBehaviourTests {
    @Test func healthReadinessMetricsAndTheContract() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let health = try await client.execute(uri: "/healthz", method: .get, headers: keys.analyst)
                #expect(health.status == .ok)
                #expect(health.text.contains("\"ok\""))

                let ready = try await client.execute(uri: "/readyz", method: .get, headers: keys.analyst)
                #expect(ready.status == .ok)
                #expect(ready.text.contains("\"ready\""))

                _ = try await client.execute(uri: "/v1/boroughs/E09000001", method: .get, headers: keys.analyst)
                _ = try await client.execute(uri: "/nowhere", method: .get, headers: keys.analyst)
                let metrics = try await client.execute(uri: "/metrics", method: .get, headers: keys.analyst)
                #expect(metrics.status == .ok)
                #expect(metrics.text.contains(#"sightline_http_requests_total{operation="GET /v1/boroughs/{gss_code}",status="200"} 1"#))
                #expect(metrics.text.contains(#"sightline_http_requests_total{operation="unmatched",status="404"} 1"#))
                #expect(metrics.text.contains(#"sightline_http_request_duration_seconds_bucket{operation="GET /v1/boroughs/{gss_code}""#))
                #expect(metrics.text.contains(#"sightline_db_pool_connections{state="idle"}"#))
                #expect(metrics.text.contains("sightline_db_pool_waiting 0"))

                let contract = try await client.execute(uri: "/openapi.yaml", method: .get, headers: keys.analyst)
                #expect(contract.status == .ok)
                #expect(contract.text == (try String(contentsOf: repositoryRoot.appending(path: "openapi.yaml"), encoding: .utf8)))
            }
        }
    }

    @Test func unknownRoutesAre404AndWrongMethodsAre405WithAllow() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let missing = try await client.execute(uri: "/v2/cameras", method: .get, headers: keys.analyst)
                #expect(missing.status == .notFound)
                #expect(missing.headers[.contentType] == "application/problem+json")
                #expect(try missing.decode(ProblemBody.self).type == "urn:sightline:problem:not-found")

                // `/v1/cameras/export` is the export's path, not a camera's id: only GET, as the router routes it.
                for (path, method) in [
                    ("/v1/boroughs", HTTPRequest.Method.delete), ("/v1/organisations/abc", .put), ("/healthz", .post),
                    ("/v1/cameras/export", .options),
                ] {
                    let wrong = try await client.execute(uri: path, method: method)
                    #expect(wrong.status == .methodNotAllowed)
                    #expect(wrong.headers[.allow] == "GET")
                    let problem = try wrong.decode(ProblemBody.self)
                    #expect(problem.type == "urn:sightline:problem:method-not-allowed")
                    #expect(problem.allow == ["GET"])
                }
            }
        }
    }

    @Test func oversizedBodiesAre413WhetherOrNotTheyDeclareALength() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url, maxBodyBytes: 1024) { client, keys in
                let big = ByteBuffer(repeating: UInt8(ascii: "x"), count: 4096)
                let declared = try await client.execute(
                    uri: "/v1/organisations", method: .post, headers: [.contentType: "application/json"], body: big)
                #expect(declared.status == .contentTooLarge)
                #expect(try declared.decode(ProblemBody.self).type == "urn:sightline:problem:content-too-large")

                let chunked = try await client.execute(
                    uri: "/v1/organisations", method: .post, headers: [.contentType: "application/json", .transferEncoding: "chunked"], body: big
                )
                #expect(chunked.status == .contentTooLarge)

                // Small bodies pass the limit and meet the route's own rules.
                let small = try await client.execute(uri: "/v1/organisations", method: .post, body: ByteBuffer(string: "{}"))
                #expect(small.status == .methodNotAllowed)
            }
        }
    }

    @Test func everyResponseCarriesARequestID() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let ok = try await client.execute(uri: "/v1/boroughs/E09000001", method: .get, headers: keys.analyst)
                let id = try #require(ok.headers[.requestID])
                #expect(RequestIDMiddleware.acceptableID(id) == id)
                #expect(id.count >= 32)

                let failed = try await client.execute(uri: "/nowhere", method: .get, headers: keys.analyst)
                let failedID = try #require(failed.headers[.requestID])
                #expect(try failed.decode(ProblemBody.self).request_id == failedID)
                #expect(failedID != id)

                let echoed = try await client.execute(uri: "/healthz", method: .get, headers: [.requestID: "trace-42.abc_DEF"])
                #expect(echoed.headers[.requestID] == "trace-42.abc_DEF")
                for hostile in ["with space", String(repeating: "a", count: 65), "semi;colon", "\u{e9}t\u{e9}"] {
                    let replaced = try await client.execute(uri: "/healthz", method: .get, headers: [.requestID: hostile])
                    let replacement = try #require(replaced.headers[.requestID])
                    #expect(replacement != hostile)
                    #expect(RequestIDMiddleware.acceptableID(replacement) == replacement)
                }
            }
        }
    }

    @Test func unreachableDatabaseMeans503ButTheProcessIsAlive() async throws {
        let pool = try TestDatabase.makePool(url: "postgresql:///sightline?host=/nonexistent-socket-dir&port=1&user=sightline", maxConnections: 2)
        try await withApp(pool: pool, url: nil, seedKeys: false) { client, keys in
            #expect(try await client.execute(uri: "/healthz", method: .get, headers: keys.analyst).status == .ok)
            let ready = try await client.execute(uri: "/readyz", method: .get, headers: keys.analyst)
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.text.contains("not_ready"))
            #expect(ready.text.contains("unreachable"))
            let data = try await client.execute(uri: "/v1/boroughs", method: .get, headers: keys.analyst)
            #expect(data.status == .serviceUnavailable)
            #expect(data.headers[.retryAfter] == "5")
            let problem = try data.decode(ProblemBody.self)
            #expect(problem.type == "urn:sightline:problem:service-unavailable")
            #expect(!(problem.detail ?? "").contains("nonexistent"))
        }
        await pool.close()
    }

    @Test func requestsFailCleanlyWhileTheDatabaseRestartsAndSucceedAfter() async throws {
        let cluster = try TemporaryCluster()
        defer { cluster.destroy() }
        let pool = try TestDatabase.makePool(url: cluster.url, maxConnections: 2, acquireTimeout: .seconds(2))
        try await Migrator(logger: TestDatabase.logger).migrate(Database(pool: pool))
        try await withApp(pool: pool, url: nil) { client, keys in
            #expect(try await client.execute(uri: "/v1/boroughs/E09000033", method: .get, headers: keys.analyst).status == .ok)
            try cluster.stop()
            let down = try await client.execute(uri: "/v1/boroughs/E09000033", method: .get, headers: keys.analyst)
            #expect(down.status == .serviceUnavailable)
            #expect(try await client.execute(uri: "/readyz", method: .get, headers: keys.analyst).status == .serviceUnavailable)
            try cluster.start()
            #expect(try await client.execute(uri: "/v1/boroughs/E09000033", method: .get, headers: keys.analyst).status == .ok)
            #expect(try await client.execute(uri: "/readyz", method: .get, headers: keys.analyst).status == .ok)
        }
        await pool.close()
    }

    @Test func readinessReportsASchemaThatIsBehind() async throws {
        try await TestDatabase.withFresh(migrated: false) { pool, _ in
            try await withApp(pool: pool, url: nil, seedKeys: false) { client, keys in
                let ready = try await client.execute(uri: "/readyz", method: .get, headers: keys.analyst)
                #expect(ready.status == .serviceUnavailable)
                #expect(ready.text.contains("sightline migrate"))
            }
        }
    }

    /// Real decoding failures, as the generated code meets them, become 400 problems that name the field.
    @Test func malformedBodiesBecome400ProblemsNamingTheField() throws {
        let routes = RouteTable()
        func problem(for json: String) throws -> Problem {
            let error = try #require(throws: DecodingError.self) {
                try JSONDecoder().decode(Components.Schemas.Borough.self, from: Data(json.utf8))
            }
            return Problem(answering: error, method: "POST", path: "/x", routes: routes)
        }
        let missing = try problem(for: #"{"gss_code": "E09000001", "name": "City"}"#)
        #expect(missing.status == .badRequest)
        #expect(missing.errors.map(\.pointer) == ["/organisation_id"])
        let wrongType = try problem(for: #"{"gss_code": 7, "name": "City", "organisation_id": "x"}"#)
        #expect(wrongType.errors.map(\.pointer) == ["/gss_code"])
        #expect(wrongType.errors.first?.detail == "must be a string")
        let notJSON = try problem(for: "{not json")
        #expect(notJSON.status == .badRequest)
        #expect(notJSON.detail == "The body is not valid JSON.")
        // A field the operation does not take, named as the client spelled it (a JSON Pointer, escaped).
        let unknown = try #require(throws: DecodingError.self) {
            try JSONDecoder().decode(Components.Schemas.WebhookEndpointCreate.self, from: Data(#"{"url": "https://x.org", "eventTypes/x": []}"#.utf8))
        }
        let extra = Problem(answering: unknown, method: "POST", path: "/x", routes: routes)
        #expect(extra.status == .badRequest)
        #expect(extra.errors.map(\.pointer) == ["/eventTypes~1x"] && extra.errors.first?.detail == "is not a field of this request")
    }

    /// Every operation whose body is a JSON document of a named schema is known to `BodyProblems`, as that
    /// schema's generated type: a body at fault is then answered naming every field.
    @Test func everyJSONBodyOfTheContractHasItsTypeForNamingEveryFieldAtFault() throws {
        let contract = try String(contentsOf: repositoryRoot.appending(path: "openapi.yaml"), encoding: .utf8)
        var operation = ""
        var inBody = false
        var json = false
        var bodies: [String: String] = [:]
        for line in contract.split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("operationId: ") {
                operation = String(text.dropFirst("operationId: ".count))
                inBody = false
            } else if text == "requestBody:" {
                inBody = true
            } else if text == "responses:" {
                inBody = false
            } else if inBody, text.hasSuffix(":"), text.contains("/") {
                json = text == "application/json:"  // a media type; other bodies (CSV, GeoJSON) have their own readers
            } else if inBody, json, text.hasPrefix("$ref: \"#/components/schemas/"), bodies[operation] == nil {
                bodies[operation] = String(text.dropFirst("$ref: \"#/components/schemas/".count).dropLast())
            }
        }
        let named = bodies.filter { $0.value != "MergePatch" }
        #expect(named.count >= 13)
        for (operation, schema) in named {
            let type = try #require(BodyProblems.bodyType(of: operation), "\(operation)")
            #expect(String(describing: type) == schema, "\(operation)")
        }
    }

    @Test func preconditionFailuresBecome428And412WithTheCurrentETag() {
        let routes = RouteTable()
        let missing = Problem(answering: PreconditionFailure.missing, method: "PATCH", path: "/x", routes: routes)
        #expect(missing.status == .preconditionRequired)
        let stale = Problem(
            answering: PreconditionFailure.stale(currentETag: #""8""#), method: "PATCH", path: "/x", routes: routes
        )
        #expect(stale.status == .preconditionFailed)
        #expect(stale.response(path: "/x", requestID: nil).headers[.eTag] == #""8""#)
    }

    @Test func unexpectedErrorsBecomeA500ThatSaysNothingInternal() {
        struct Secret: Error, CustomStringConvertible { var description: String { "SELECT password FROM keys" } }
        let problem = Problem(answering: Secret(), method: "GET", path: "/x", routes: RouteTable())
        #expect(problem.status == .internalServerError)
        #expect(!(problem.detail ?? "").contains("SELECT"))
        let response = problem.response(path: "/x", requestID: "r1")
        #expect(response.headers[.contentType] == "application/problem+json")
    }
}
