import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@Suite("API: organisations and boroughs")
struct OrganisationAPITests {
    struct BoroughList: Decodable {
        let items: [Borough]
        let next_cursor: String?
    }
    struct Borough: Decodable, Equatable {
        let gss_code: String
        let name: String
        let organisation_id: String
    }
    struct OrganisationList: Decodable {
        let items: [Organisation]
        let next_cursor: String?
    }
    struct Organisation: Decodable, Equatable {
        let id: String
        let kind: String
        let name: String
        let gss_code: String?
    }

    @Test func pagesThroughAllThirtyThreeBoroughs() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                var codes: [String] = []
                var cursor: String?
                var pages = 0
                repeat {
                    let query = cursor.map { "&cursor=\($0)" } ?? ""
                    let response = try await client.execute(uri: "/v1/boroughs?limit=10\(query)", method: .get, headers: keys.analyst)
                    #expect(response.status == .ok)
                    let page = try response.decode(BoroughList.self)
                    codes += page.items.map(\.gss_code)
                    cursor = page.next_cursor
                    pages += 1
                } while cursor != nil
                #expect(pages == 4)
                #expect(codes == (1...33).map { String(format: "E090000%02d", $0) })
            }
        }
    }

    @Test func getsOneBoroughAndItsAuthority() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let response = try await client.execute(uri: "/v1/boroughs/E09000007", method: .get, headers: keys.analyst)
                #expect(response.status == .ok)
                let camden = try response.decode(Borough.self)
                #expect(camden.name == "Camden")
                let authority = try await client.execute(uri: "/v1/organisations/\(camden.organisation_id)", method: .get, headers: keys.analyst)
                #expect(authority.status == .ok)
                #expect(
                    try authority.decode(Organisation.self)
                        == Organisation(
                            id: camden.organisation_id, kind: "borough", name: "London Borough of Camden", gss_code: "E09000007"
                        ))
            }
        }
    }

    @Test func filtersOrganisationsByKind() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let response = try await client.execute(uri: "/v1/organisations?kind=police", method: .get, headers: keys.analyst)
                let page = try response.decode(OrganisationList.self)
                #expect(page.items.map(\.name) == ["British Transport Police", "City of London Police", "Metropolitan Police Service"])
                #expect(page.next_cursor == nil)
                let bad = try await client.execute(uri: "/v1/organisations?kind=pirates", method: .get, headers: keys.analyst)
                #expect(bad.status == .badRequest)
                #expect(bad.headers[.contentType] == "application/problem+json")
            }
        }
    }

    @Test(arguments: [
        ("/v1/organisations/7e1c0a50-0000-4000-8000-000000000000", "an unknown id"),
        ("/v1/organisations/not-a-uuid", "a malformed id"),
        ("/v1/boroughs/E09000034", "a code outside London"),
        ("/v1/boroughs/e09000001", "a lower-case code"),
    ])
    func unknownResourcesAre404Problems(path: String, _ what: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let response = try await client.execute(uri: path, method: .get, headers: keys.analyst)
                #expect(response.status == .notFound, "\(what)")
                let problem = try response.decode(ProblemBody.self)
                #expect(problem.type == "urn:sightline:problem:not-found")
                #expect(problem.status == 404)
                #expect(problem.instance == path)
            }
        }
    }

    @Test(arguments: [
        ("limit=0", "#/parameters/limit"), ("limit=501", "#/parameters/limit"), ("cursor=garbage", "#/parameters/cursor"),
        ("cursor=WyJFMDkwMDAwMDIiXQ", "#/parameters/cursor"),
    ])
    func invalidPagingIsA400NamingTheParameter(query: String, pointer: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                // The last cursor is a borough cursor, which does not fit the organisation list.
                let response = try await client.execute(uri: "/v1/organisations?\(query)", method: .get, headers: keys.analyst)
                #expect(response.status == .badRequest)
                let problem = try response.decode(ProblemBody.self)
                #expect(problem.type == "urn:sightline:problem:validation")
                #expect(problem.errors?.map(\.pointer) == [pointer])
            }
        }
    }

    @Test func aNonNumericLimitIsA400() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let response = try await client.execute(uri: "/v1/boroughs?limit=ten", method: .get, headers: keys.analyst)
                #expect(response.status == .badRequest)
                let problem = try response.decode(ProblemBody.self)
                #expect(problem.status == 400)
                #expect(problem.type == "urn:sightline:problem:validation")
                #expect(problem.errors?.first?.pointer == "#/parameters/limit")
            }
        }
    }
}
