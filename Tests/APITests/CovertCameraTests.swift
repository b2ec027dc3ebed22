import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LibPQ
import Storage
import TestSupport
import Testing

/// Neither confirm nor deny: a covert camera does not exist for a key that may not know of it — in reads,
/// searches, lists, changes and events — and every read that shows one is audited.
@Suite("API: covert cameras, neither confirmed nor denied")
struct CovertCameraTests {
    /// Each caller, and whether it may know of a covert camera owned by Westminster.
    static let callers: [(name: String, organisation: UUID, role: Role, covert: Bool, mayKnow: Bool)] = [
        ("Westminster operator", TestKeys.westminster, .operator, false, false),
        ("Westminster analyst", TestKeys.westminster, .analyst, false, false),
        ("Westminster admin", TestKeys.westminster, .admin, false, false),
        ("Westminster operator with covert access", TestKeys.westminster, .operator, true, true),
        ("MPS requester", TestKeys.mps, .requester, false, false),
        ("MPS requester with covert access", TestKeys.mps, .requester, true, true),
        ("TfL operator", TestKeys.tfl, .operator, false, false),
        ("TfL operator with covert access (neither owner nor police)", TestKeys.tfl, .operator, true, false),
    ]

    @Test func eachCallerSeesACovertCameraOnlyIfTheRulesAllow() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let owner = keys.covert(.operator, of: TestKeys.westminster)
                let created = try await client.send(
                    .post, "/v1/cameras", owner,
                    #"{"kind": "other", "covert": true, "location": {"lat": \#(Places.westminster.lat), "lon": \#(Places.westminster.lon)}}"#
                )
                #expect(created.status == .created)
                let covert = try created.decode(CameraBody.self)
                let open = try await client.send(.post, "/v1/cameras", owner, Places.camera(Places.westminster)).decode(CameraBody.self)
                let random = "/v1/cameras/" + UUID().uuidString.lowercased()
                // Once the owner's log shows the later, open camera, every log shows the covert one to whoever may see it.
                _ = try await client.events(owner) { page in page.items.contains { $0.subject == "camera/\(open.id)" } }

                for caller in Self.callers {
                    let headers = caller.covert ? keys.covert(caller.role, of: caller.organisation) : keys(caller.role, of: caller.organisation)
                    let got = try await client.send(.get, "/v1/cameras/\(covert.id)", headers)
                    let nothing = try await client.send(.get, random, headers)
                    if caller.mayKnow {
                        #expect(got.status == .ok, "\(caller.name)")
                    } else {
                        #expect(got.status == .notFound, "\(caller.name)")
                        let (a, b) = (try got.decode(ProblemBody.self), try nothing.decode(ProblemBody.self))
                        #expect(
                            a.type == b.type && a.title == b.title && a.detail == b.detail && a.status == b.status && a.errors == b.errors,
                            "\(caller.name)")
                        #expect(got.headers[.eTag] == nil)
                    }
                    let searches = [
                        "/v1/cameras?near=\(Places.westminster.lat),\(Places.westminster.lon)&radius_m=100",
                        "/v1/cameras?borough=E09000033", "/v1/cameras?owner_org_id=\(TestKeys.westminster)", "/v1/cameras?kind=other",
                        "/v1/cameras?bbox=-0.2,51.4,-0.1,51.6", "/v1/cameras",
                    ]
                    for search in searches {
                        let page = try await client.send(.get, search, headers).decode(CameraPage.self)
                        #expect(page.items.contains { $0.id == covert.id } == caller.mayKnow, "\(caller.name): \(search)")
                        #expect(search.contains("kind=other") || page.items.contains { $0.id == open.id }, "\(caller.name): \(search)")
                    }
                    let events = try await client.send(.get, "/v1/events", headers).decode(EventPage.self)
                    #expect(events.items.contains { $0.subject == "camera/\(covert.id)" } == caller.mayKnow, "\(caller.name)")
                }
            }
        }
    }

    @Test func onlyKeysThatMayKnowOfItChangeOrRecordACovertCamera() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let refused = try await client.send(
                    .post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster, extra: #", "covert": true"#))
                #expect(refused.status == .forbidden)
                let owner = keys.covert(.operator, of: TestKeys.westminster)
                let covert = try await client.send(.post, "/v1/cameras", owner, Places.camera(Places.westminster, extra: #", "covert": true"#))
                    .decode(CameraBody.self)
                // Without covert access the camera is not there to change; with it, it is.
                let blind = try await client.send(.patch, "/v1/cameras/\(covert.id)", keys(.operator), #"{"condition": 3}"#, ifMatch: "*")
                #expect(blind.status == .notFound)
                let blindDecommission = try await client.send(.post, "/v1/cameras/\(covert.id)/decommission", keys(.operator), "{}", ifMatch: "*")
                #expect(blindDecommission.status == .notFound)
                #expect(try await client.send(.patch, "/v1/cameras/\(covert.id)", owner, #"{"condition": 3}"#, ifMatch: "\"1\"").status == .ok)
                // A plain camera cannot be made covert by a key that would then lose sight of it.
                let open = try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster)).decode(CameraBody.self)
                let hide = try await client.send(.patch, "/v1/cameras/\(open.id)", keys(.operator), #"{"covert": true}"#, ifMatch: "\"1\"")
                #expect(hide.status == .forbidden)
            }
        }
    }

    @Test func everyReadThatShowsACovertCameraIsAudited() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let owner = keys.covert(.operator, of: TestKeys.westminster)
                let covert = try await client.send(.post, "/v1/cameras", owner, Places.camera(Places.westminster, extra: #", "covert": true"#))
                    .decode(CameraBody.self)
                let police = keys.covert(.requester, of: TestKeys.mps)
                _ = try await client.send(.get, "/v1/cameras/\(covert.id)", police)
                _ = try await client.send(.get, "/v1/cameras?borough=E09000033", police)
                _ = try await client.send(.get, "/v1/cameras?borough=E09000033", keys(.operator))
                let reads = try await AuditStore(Database(pool: pool)).list(
                    organisationID: nil, action: "camera.read_covert", page: PageRequest(limit: 50, cursor: nil))
                #expect(reads.items.count == 2)
                #expect(reads.items.allSatisfy { $0.event.organisationID == TestKeys.mps && $0.event.detailJSON.contains(covert.id) })
                #expect(reads.items.contains { $0.event.entityID == covert.id })
            }
        }
    }
}
