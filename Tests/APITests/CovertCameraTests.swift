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

    /// Every read that can show a covert camera (or a figure or event about one), by the read's name in the audit row.
    static let covertReads = ["camera", "camera_list", "events", "evidence_request", "evidence_task_list", "evidence_task", "statistics"]

    /// The `camera.read_covert` rows the MPS has written, by the read that wrote them.
    static func covertReads(_ pool: PostgresPool) async throws -> [String] {
        try await AuditStore(Database(pool: pool)).list(
            organisationID: TestKeys.mps, action: "camera.read_covert", page: PageRequest(limit: 500, cursor: nil)
        ).items.compactMap { record in
            (try? JSONSerialization.jsonObject(with: Data(record.event.detailJSON.utf8)) as? [String: Any])?["via"] as? String
        }
    }

    @Test(arguments: covertReads)
    func everyReadThatShowsACovertCameraIsAuditedAndNoOtherIs(via: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let owner = keys.covert(.operator, of: TestKeys.westminster)
                let covert = try await client.send(.post, "/v1/cameras", owner, Places.camera(Places.westminster, extra: #", "covert": true"#))
                    .decode(CameraBody.self)
                _ = try await client.send(.post, "/v1/cameras", owner, Places.camera(Places.westminster))
                let police = keys.covert(.requester, of: TestKeys.mps)
                let plain = keys(.requester, of: TestKeys.mps)
                let body = incident(hoursAgo: 1, radius: 50)
                let request = try await client.send(.post, "/v1/evidence-requests", police, body).decode(RequestBody.self)
                let task = try #require(request.tasks?.first)
                let today = Day(Date()).description

                /// Makes the read `via` as `headers`; whether the response could show the covert camera.
                func read(_ headers: HTTPFields, covertKey: Bool) async throws {
                    switch via {
                    case "camera": _ = try await client.send(.get, "/v1/cameras/\(covert.id)", headers)
                    case "camera_list": _ = try await client.send(.get, "/v1/cameras?borough=E09000033", headers)
                    case "events":
                        _ = try await client.events(headers) { page in !covertKey || page.items.contains { $0.subject == "camera/\(covert.id)" } }
                    case "evidence_request": _ = try await client.send(.get, "/v1/evidence-requests/" + request.id, headers)
                    case "evidence_task_list": _ = try await client.send(.get, "/v1/evidence-tasks", headers)
                    case "evidence_task": _ = try await client.send(.get, "/v1/evidence-tasks/" + task.id, headers)
                    case "statistics":
                        let path = "/v1/statistics/cameras?as_of=\(today)&group_by=kind"
                        _ = try await client.send(.get, path, headers)  // the disclosable figure: nothing covert
                        _ = try await client.send(.get, path + "&include_covert=true", headers)
                    default: Issue.record("no read named \(via)")
                    }
                }
                let before = try await Self.covertReads(pool)
                try await read(plain, covertKey: false)
                #expect(try await Self.covertReads(pool) == before, "a key without covert access was shown nothing covert")
                try await read(police, covertKey: true)
                let after = try await Self.covertReads(pool)
                #expect(after.count == before.count + 1 && after.first == via, "\(after)")
            }
        }
    }

    @Test func statisticsAreTheDisclosableFigureUnlessCovertCamerasAreAskedForByAKeyThatMayKnow() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let owner = keys.covert(.operator, of: TestKeys.westminster)
                _ = try await client.send(.post, "/v1/cameras", owner, Places.camera(Places.westminster, extra: #", "covert": true"#))
                _ = try await client.send(.post, "/v1/cameras", owner, Places.camera(Places.westminster))
                let path = "/v1/statistics/cameras?as_of=\(Day(Date()).description)&group_by=kind"
                func total(_ query: String, _ headers: HTTPFields) async throws -> Int {
                    let json = try JSONSerialization.jsonObject(with: Data(try await client.send(.get, path + query, headers).text.utf8))
                    return ((json as? [String: Any])?["totals"] as? [Int])?.first ?? -1
                }
                #expect(try await total("", owner) == 1)
                #expect(try await total("&include_covert=true", owner) == 2)
                #expect(try await total("&include_covert=true", keys.covert(.requester, of: TestKeys.mps)) == 2)
                // Asked for by keys that may not know: answered as if they had not asked, not refused.
                let asked = try await client.send(.get, path + "&include_covert=true", keys(.operator))
                #expect(asked.status == .ok)
                #expect(try await total("&include_covert=true", keys(.operator)) == 1)
                #expect(try await total("&include_covert=true", keys.covert(.operator, of: TestKeys.tfl)) == 1)
            }
        }
    }

    @Test func aDuplicateReferenceIsAConflictNamingTheFieldAndACovertCamerasReferenceNeverCollidesVisibly() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let owner = keys.covert(.operator, of: TestKeys.westminster)
                let hidden = try await client.send(
                    .post, "/v1/cameras", owner, Places.camera(Places.westminster, extra: #", "covert": true, "external_ref": "WCC-0001""#))
                #expect(hidden.status == .created)
                // The same reference on an open camera: no collision, whoever asks (the covert one stays unknowable).
                let open = try await client.send(
                    .post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster, extra: #", "external_ref": "WCC-0001""#))
                #expect(open.status == .created, "\(open.text)")
                // A duplicate among open cameras: 409 at /external_ref, on create, on PATCH and in an import, for any key.
                let second = try await client.send(
                    .post, "/v1/cameras", keys(.operator), Places.camera(Places.camden, extra: #", "external_ref": "WCC-0002""#)
                ).decode(CameraBody.self)
                for headers in [keys(.operator), owner] {
                    let duplicate = try await client.send(
                        .post, "/v1/cameras", headers, Places.camera(Places.westminster, extra: #", "external_ref": "WCC-0001""#))
                    #expect(duplicate.status == .conflict, "\(duplicate.text)")
                    #expect(try duplicate.decode(ProblemBody.self).errors?.map(\.pointer) == ["/external_ref"])
                }
                let patched = try await client.send(
                    .patch, "/v1/cameras/\(second.id)", keys(.operator), #"{"external_ref": "WCC-0001"}"#, ifMatch: "\"1\"")
                #expect(patched.status == .conflict)
                #expect(try patched.decode(ProblemBody.self).errors?.map(\.pointer) == ["/external_ref"])
                // An import whose reference only a covert camera holds: accepted, like any fresh reference.
                var csv = keys(.operator)
                csv[.contentType] = "text/csv"
                let imported = try await client.execute(
                    uri: "/v1/cameras/import", method: .post, headers: csv,
                    body: ByteBuffer(string: "external_ref,kind,lat,lon\nWCC-0003,fixed,51.5,-0.13\n"))
                #expect(imported.status == .created, "\(imported.text)")
                try await pool.withConnection { connection in
                    try await connection.query("UPDATE cameras SET external_ref = 'WCC-0004' WHERE external_ref = 'WCC-0003'")
                    try await connection.query("UPDATE cameras SET external_ref = 'WCC-0003' WHERE covert")
                }
                let again = try await client.execute(
                    uri: "/v1/cameras/import", method: .post, headers: csv,
                    body: ByteBuffer(string: "external_ref,kind,lat,lon\nWCC-0003,fixed,51.5,-0.13\nWCC-0004,fixed,51.5,-0.13\n"))
                #expect(again.status == .badRequest)
                #expect(try again.decode(ProblemBody.self).errors?.map(\.pointer) == ["/rows/3/external_ref"], "\(again.text)")
            }
        }
    }
}
