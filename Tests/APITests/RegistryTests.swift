import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LibPQ
import Storage
import TestSupport
import Testing

/// What the tests read of a camera.
struct CameraBody: Decodable {
    let id: String
    let owner_org_id: String
    let control_room_id: String?
    let borough_gss: String?
    let borough_mismatch: Bool
    let status: String
    let version: Int
    let covert: Bool
    let distance_m: Double?
    let effective_retention_days: Int?
    let decommissioned_on: String?
}

struct CameraPage: Decodable {
    let items: [CameraBody]
    let next_cursor: String?
}

struct RoomBody: Decodable {
    let id: String
    let name: String
    let boroughs_served: [String]
    let version: Int
    let default_retention_days: Int
}

extension TestClientProtocol {
    /// Sends `json` with `method` to `uri`.
    func send(_ method: HTTPRequest.Method, _ uri: String, _ headers: HTTPFields, _ json: String? = nil, ifMatch: String? = nil) async throws
        -> TestResponse
    {
        var headers = headers
        if json != nil { headers[.contentType] = "application/json" }
        if let ifMatch { headers[.ifMatch] = ifMatch }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

/// Westminster (Parliament Square), Camden (the British Museum) and a point outside London (Reading).
enum Places {
    static let westminster = (lat: 51.50095, lon: -0.12655)
    static let camden = (lat: 51.51939, lon: -0.12694)
    static let reading = (lat: 51.45462, lon: -0.97813)

    static func camera(_ place: (lat: Double, lon: Double), extra: String = "") -> String {
        #"{"kind": "fixed", "location": {"lat": \#(place.lat), "lon": \#(place.lon)}\#(extra)}"#
    }
}

@Suite("API: control rooms and cameras")
struct RegistryTests {
    @Test func controlRoomsAreCreatedListedAndChangedWithIfMatch() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let operatorKey = keys(.operator)
                let created = try await client.send(
                    .post, "/v1/control-rooms", operatorKey,
                    #"{"name": "Westminster and Camden shared room", "boroughs_served": ["E09000033", "E09000007"], "export_formats": ["mp4"], "annual_cost_pence": 123456789}"#
                )
                #expect(created.status == .created)
                let room = try created.decode(RoomBody.self)
                #expect(room.boroughs_served == ["E09000007", "E09000033"])
                #expect(room.default_retention_days == 31)
                #expect(created.headers[.eTag] == "\"1\"")

                let camden = try await client.send(.get, "/v1/control-rooms?borough=E09000007", keys(.analyst)).decode(RoomPage.self)
                #expect(camden.items.map(\.id) == [room.id])
                let none = try await client.send(.get, "/v1/control-rooms?borough=E09000001", keys(.analyst)).decode(RoomPage.self)
                #expect(none.items.isEmpty)
                let byOperator = try await client.send(.get, "/v1/control-rooms?operator_org_id=\(TestKeys.westminster)", keys(.analyst))
                #expect(try byOperator.decode(RoomPage.self).items.count == 1)

                let path = "/v1/control-rooms/\(room.id)"
                let patch = #"{"boroughs_served": ["E09000033"], "address": "1 Example Street"}"#
                #expect(try await client.send(.patch, path, operatorKey, patch).status == .preconditionRequired)
                let stale = try await client.send(.patch, path, operatorKey, patch, ifMatch: "\"7\"")
                #expect(stale.status == .preconditionFailed)
                #expect(stale.headers[.eTag] == "\"1\"")
                let changed = try await client.send(.patch, path, operatorKey, patch, ifMatch: "\"1\"")
                #expect(changed.status == .ok)
                #expect(changed.headers[.eTag] == "\"2\"")
                #expect(try changed.decode(RoomBody.self).boroughs_served == ["E09000033"])
                // The second change with the old tag is stale.
                #expect(try await client.send(.patch, path, operatorKey, patch, ifMatch: "\"1\"").status == .preconditionFailed)

                // Other organisations' operators, and roles that do not keep the registry, may not change it.
                let foreign = try await client.send(.patch, path, keys(.operator, of: TestKeys.mps), patch, ifMatch: "\"2\"")
                #expect(foreign.status == .forbidden)
                #expect(try await client.send(.patch, path, keys(.analyst), patch, ifMatch: "\"2\"").status == .forbidden)
                let forOthers = try await client.send(
                    .post, "/v1/control-rooms", operatorKey,
                    #"{"name": "x", "boroughs_served": ["E09000033"], "operator_org_id": "\#(TestKeys.mps)"}"#
                )
                #expect(forOthers.status == .forbidden)
            }
        }
    }

    @Test(arguments: [
        (#"{"name": "", "boroughs_served": ["E09000033"]}"#, "/name"),
        (#"{"name": "r", "boroughs_served": []}"#, "/boroughs_served"),
        (#"{"name": "r", "boroughs_served": ["E09000099"]}"#, "/boroughs_served/0"),
        (#"{"name": "r", "boroughs_served": ["E09000033"], "default_retention_days": 0}"#, "/default_retention_days"),
        (#"{"name": "r", "boroughs_served": ["E09000033"], "location": {"lat": 91, "lon": 0}}"#, "/location/lat"),
        (#"{"name": "r", "boroughs_served": ["E09000033"], "status": "open"}"#, "/status"),
        (#"{"name": "r", "boroughs_served": ["E09000033"], "annual_cost_pence": -1}"#, "/annual_cost_pence"),
    ])
    func badControlRoomsAre400NamingTheFieldAndWriteNothing(body: String, pointer: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let response = try await client.send(.post, "/v1/control-rooms", keys(.operator), body)
                #expect(response.status == .badRequest)
                #expect(try response.decode(ProblemBody.self).errors?.map(\.pointer).contains(pointer) == true, "\(response.text)")
                #expect(try await count("control_rooms", pool) == 0)
                #expect(try await count("events", pool) == 0)
            }
        }
    }

    @Test func camerasGetTheirBoroughFromTheirLocationAndAMismatchIsFlagged() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let derived = try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster))
                #expect(derived.status == .created)
                let camera = try derived.decode(CameraBody.self)
                #expect(camera.borough_gss == "E09000033" && !camera.borough_mismatch)
                #expect(camera.owner_org_id == TestKeys.westminster.uuidString.lowercased())
                let mismatched = try await client.send(
                    .post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster, extra: #", "borough_gss": "E09000007""#))
                #expect(try mismatched.decode(CameraBody.self).borough_gss == "E09000007")
                #expect(try mismatched.decode(CameraBody.self).borough_mismatch)
                let outside = try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.reading))
                #expect(try outside.decode(CameraBody.self).borough_gss == nil)

                // Moving it without naming a borough derives the borough again.
                let moved = try await client.send(
                    .patch, "/v1/cameras/\(camera.id)", keys(.operator),
                    #"{"location": {"lat": \#(Places.camden.lat), "lon": \#(Places.camden.lon)}, "retention_days": 14}"#, ifMatch: "\"1\""
                )
                #expect(moved.status == .ok)
                let after = try moved.decode(CameraBody.self)
                #expect(after.borough_gss == "E09000007" && !after.borough_mismatch)
                #expect(after.effective_retention_days == 14 && after.version == 2)
                // `null` clears an optional field; fields that are not the owner's to set are refused by name.
                let cleared = try await client.send(
                    .patch, "/v1/cameras/\(camera.id)", keys(.operator), #"{"retention_days": null}"#, ifMatch: "\"2\"")
                #expect(try cleared.decode(CameraBody.self).effective_retention_days == nil)
                let refused = try await client.send(
                    .patch, "/v1/cameras/\(camera.id)", keys(.operator), #"{"owner_org_id": "\#(TestKeys.mps)"}"#, ifMatch: "\"3\"")
                #expect(refused.status == .badRequest)
                #expect(try refused.decode(ProblemBody.self).errors?.first?.pointer == "/owner_org_id")
            }
        }
    }

    @Test(arguments: [
        (Places.camera((lat: 91, lon: 0)), "/location/lat"),
        (Places.camera((lat: 51.5, lon: -181)), "/location/lon"),
        (#"{"kind": "dome", "location": {"lat": 51.5, "lon": -0.1}}"#, "/kind"),
        (
            Places.camera(
                Places.westminster, extra: #", "status": "decommissioned", "commissioned_on": "2020-05-01", "decommissioned_on": "2019-01-01""#),
            "/decommissioned_on"
        ),
        (Places.camera(Places.westminster, extra: #", "commissioned_on": "2023-02-30""#), "/commissioned_on"),
        (Places.camera(Places.westminster, extra: #", "heading_deg": 360"#), "/heading_deg"),
        (Places.camera(Places.westminster, extra: #", "condition": 6"#), "/condition"),
        (Places.camera(Places.westminster, extra: #", "max_dori": "see""#), "/max_dori"),
        (Places.camera(Places.westminster, extra: #", "borough_gss": "W06000015""#), "/borough_gss"),
        (Places.camera(Places.westminster, extra: #", "external_ref": "\#(String(repeating: "x", count: 101))""#), "/external_ref"),
        (Places.camera(Places.westminster, extra: #", "control_room_id": "00000000-0000-4000-8000-000000000000""#), "/control_room_id"),
        (#"{"kind": "fixed", "location": {"type": "Polygon", "coordinates": []}}"#, "/location"),
    ])
    func badCamerasAre400NamingTheFieldAndWriteNothing(body: String, pointer: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let response = try await client.send(.post, "/v1/cameras", keys(.operator), body)
                #expect(response.status == .badRequest, "\(response.text)")
                let pointers = try response.decode(ProblemBody.self).errors?.map(\.pointer) ?? []
                #expect(pointers.contains { $0.hasPrefix(pointer) }, "\(pointers)")
                #expect(try await count("cameras", pool) == 0)
                #expect(try await count("events", pool) == 0)
                #expect(try await count("audit_pending", pool) == TestKeys.count)
            }
        }
    }

    @Test func aCameraInARoomOfAnotherOrganisationIsRefused() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let room = try await client.send(
                    .post, "/v1/control-rooms", keys(.operator, of: TestKeys.tfl), #"{"name": "TfL", "boroughs_served": ["E09000001"]}"#)
                let roomID = try room.decode(RoomBody.self).id
                let response = try await client.send(
                    .post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster, extra: #", "control_room_id": "\#(roomID)""#))
                #expect(response.status == .badRequest)
                #expect(try response.decode(ProblemBody.self).errors?.first?.pointer == "/control_room_id")
                #expect(try await count("cameras", pool) == 0)
                // In its own room it is monitored, and takes the room's retention.
                let own = try await client.send(
                    .post, "/v1/control-rooms", keys(.operator), #"{"name": "WCC", "boroughs_served": ["E09000033"], "default_retention_days": 28}"#)
                let ownID = try own.decode(RoomBody.self).id
                let camera = try await client.send(
                    .post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster, extra: #", "control_room_id": "\#(ownID)""#))
                #expect(try camera.decode(CameraBody.self).effective_retention_days == 28)
                // A shared room run by Camden that serves Westminster monitors Westminster's cameras too.
                let shared = try await client.send(
                    .post, "/v1/control-rooms", keys(.admin),
                    #"{"name": "Shared", "boroughs_served": ["E09000007", "E09000033"], "operator_org_id": "\#(TestKeys.camden)"}"#
                )
                let sharedID = try shared.decode(RoomBody.self).id
                let partner = try await client.send(
                    .post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster, extra: #", "control_room_id": "\#(sharedID)""#))
                #expect(partner.status == .created)
            }
        }
    }

    @Test func nearSearchIsOrderedByDistanceAndPagesAndCombinesWithFilters() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                // A line of cameras northwards from Parliament Square, about 22 m apart, alternating kinds.
                var ids: [String] = []
                for step in 0..<12 {
                    let kind = step.isMultiple(of: 2) ? "fixed" : "ptz"
                    let body =
                        #"{"kind": "\#(kind)", "location": {"lat": \#(Places.westminster.lat + Double(step) * 0.0002), "lon": \#(Places.westminster.lon)}}"#
                    ids.append(try await client.send(.post, "/v1/cameras", keys(.operator), body).decode(CameraBody.self).id)
                }
                let centre = "\(Places.westminster.lat),\(Places.westminster.lon)"
                var seen: [CameraBody] = []
                var cursor: String?
                repeat {
                    let page = try await client.send(
                        .get, "/v1/cameras?near=\(centre)&radius_m=210&limit=4" + (cursor.map { "&cursor=" + $0 } ?? ""),
                        keys(.requester, of: TestKeys.mps)
                    ).decode(CameraPage.self)
                    seen += page.items
                    cursor = page.next_cursor
                } while cursor != nil
                // 210 m reaches the first 10 (0 to about 200 m), nearest first, each once, with its distance.
                #expect(seen.map(\.id) == Array(ids.prefix(10)))
                #expect(zip(seen, seen.dropFirst()).allSatisfy { ($0.distance_m ?? -1) <= ($1.distance_m ?? -1) })
                #expect(abs((seen[5].distance_m ?? 0) - 111.3) < 1)
                let ptz = try await client.send(.get, "/v1/cameras?near=\(centre)&radius_m=210&kind=ptz", keys(.analyst)).decode(CameraPage.self)
                #expect(ptz.items.map(\.id) == [1, 3, 5, 7, 9].map { ids[$0] })

                let box =
                    "\(Places.westminster.lon - 0.001),\(Places.westminster.lat + 0.0003),\(Places.westminster.lon + 0.001),\(Places.westminster.lat + 0.0011)"
                let boxed = try await client.send(.get, "/v1/cameras?bbox=\(box)", keys(.analyst)).decode(CameraPage.self)
                #expect(Set(boxed.items.map(\.id)) == Set([2, 3, 4, 5].map { ids[$0] }))
                #expect(boxed.items.allSatisfy { $0.distance_m == nil })
                let inBorough = try await client.send(.get, "/v1/cameras?borough=E09000033&limit=500", keys(.analyst)).decode(CameraPage.self)
                #expect(inBorough.items.count == 12)
            }
        }
    }

    @Test(arguments: [
        ("near=91,0&radius_m=100", "near"), ("near=51.5,-181&radius_m=100", "near"), ("near=51.5&radius_m=100", "near"),
        ("near=51.5,-0.1&radius_m=0", "radius_m"), ("near=51.5,-0.1&radius_m=50001", "radius_m"), ("near=51.5,-0.1", "radius_m"),
        ("radius_m=100", "near"), ("bbox=-0.1,51.6,-0.2,51.5", "bbox"), ("bbox=1,2,3", "bbox"), ("borough=E09000034", "borough"),
        ("owner_org_id=nope", "owner_org_id"), ("kind=dome", "kind"), ("status=broken", "status"), ("radius_m=far&near=51.5,-0.1", "radius_m"),
        ("limit=many", "limit"), ("cursor=garbage", "cursor"),
    ])
    func badSearchesAre400NamingTheParameter(query: String, parameter: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let response = try await client.send(.get, "/v1/cameras?" + query, keys(.analyst))
                #expect(response.status == .badRequest, "\(query): \(response.text)")
                let problem = try response.decode(ProblemBody.self)
                #expect(
                    problem.errors?.contains { $0.pointer == "#/parameters/" + parameter } == true || problem.detail?.contains(parameter) == true,
                    "\(response.text)")
            }
        }
    }

    @Test func decommissioningNeedsIfMatchAndHappensOnce() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let camera = try await client.send(
                    .post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster, extra: #", "commissioned_on": "2013-04-01""#)
                )
                .decode(CameraBody.self)
                let path = "/v1/cameras/\(camera.id)/decommission"
                #expect(try await client.send(.post, path, keys(.operator), "{}").status == .preconditionRequired)
                let early = try await client.send(.post, path, keys(.operator), #"{"decommissioned_on": "2012-01-01"}"#, ifMatch: "\"1\"")
                #expect(early.status == .badRequest)
                let done = try await client.send(.post, path, keys(.operator), #"{"decommissioned_on": "2023-06-30"}"#, ifMatch: "\"1\"")
                #expect(done.status == .ok)
                let body = try done.decode(CameraBody.self)
                #expect(body.status == "decommissioned" && body.decommissioned_on == "2023-06-30" && body.version == 2)
                #expect(try await client.send(.post, path, keys(.operator), "{}", ifMatch: "\"2\"").status == .conflict)
            }
        }
    }

    @Test func changesEmitEventsToTheirAudienceInOrder() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let camera = try await client.send(.post, "/v1/cameras", keys(.operator), Places.camera(Places.westminster)).decode(CameraBody.self)
                _ = try await client.send(.patch, "/v1/cameras/\(camera.id)", keys(.operator), #"{"condition": 4}"#, ifMatch: "\"1\"")
                _ = try await client.send(.patch, "/v1/cameras/\(camera.id)", keys(.operator), #"{"status": "faulty"}"#, ifMatch: "\"2\"")

                let westminster = try await client.events(keys(.analyst)) { $0.items.count >= 3 }
                #expect(westminster.items.map(\.type) == ["camera.created", "camera.updated", "camera.status_changed"])
                #expect(westminster.items.map(\.sequence) == [1, 2, 3])
                #expect(westminster.items.map { $0.data["version"] } == [1, 2, 3].map { EventBody.Datum(stringLiteral: String($0)) })
                #expect(try await client.send(.get, "/v1/events?limit=1", keys(.analyst)).text.contains(#""version":1"#))
                #expect(Set(westminster.items.map(\.subject)) == ["camera/\(camera.id)"])
                #expect(westminster.items[2].data["previous_status"] == "operational" && westminster.items[2].data["status"] == "faulty")
                // The police hear of every camera; TfL, which neither owns, monitors nor governs it, does not.
                let police = try await client.send(.get, "/v1/events", keys(.requester, of: TestKeys.mps)).decode(EventPage.self)
                #expect(police.items.count == 3)
                let tfl = try await client.send(.get, "/v1/events", keys(.operator, of: TestKeys.tfl)).decode(EventPage.self)
                #expect(tfl.items.isEmpty)
                // Polling from the last cursor returns only what is new.
                let again = try await client.send(.get, "/v1/events?cursor=" + westminster.next_cursor, keys(.analyst)).decode(EventPage.self)
                #expect(again.items.isEmpty && again.next_cursor == westminster.next_cursor)
                _ = try await client.send(.post, "/v1/cameras/\(camera.id)/decommission", keys(.operator), "{}", ifMatch: "\"3\"")
                let newer = try await client.events(keys(.analyst), at: "/v1/events?cursor=" + again.next_cursor) { !$0.items.isEmpty }
                #expect(newer.items.map(\.sequence) == [4])
            }
        }
    }
}

struct RoomPage: Decodable {
    let items: [RoomBody]
    let next_cursor: String?
}

struct EventPage: Decodable {
    let items: [EventBody]
    let next_cursor: String
}

extension TestClientProtocol {
    /// The events page at `uri` once `condition` holds of it. The log shows an event once every transaction that
    /// began before its own has ended, in this database or (in tests) another on the same cluster, so a page
    /// read at once after a write may not show that write yet.
    func events(_ headers: HTTPFields, at uri: String = "/v1/events", until condition: @escaping (EventPage) -> Bool) async throws -> EventPage {
        var page: EventPage?
        _ = try await eventually {
            let read = try await send(.get, uri, headers).decode(EventPage.self)
            page = read
            return condition(read)
        }
        return try #require(page)
    }
}

struct EventBody: Decodable {
    let id: String
    let type: String
    let subject: String
    let sequence: Int
    let data: [String: Datum]

    /// A data value: text, a number (`version`), a boolean or a list, read as text.
    struct Datum: Decodable, Equatable, ExpressibleByStringLiteral {
        let text: String
        init(stringLiteral value: String) { text = value }
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) {
                text = String(number)
            } else if let flag = try? container.decode(Bool.self) {
                text = String(flag)
            } else if let list = try? container.decode([Datum].self) {
                text = "[" + list.map(\.text).joined(separator: ",") + "]"
            } else {
                text = try container.decode(String.self)
            }
        }
    }
}

struct ArrangementBody: Decodable {
    let id: String
    let model: String
    let starts_on: String
    let ends_on: String?
    let active: Bool
    let version: Int
}

struct ArrangementPage: Decodable {
    let items: [ArrangementBody]
    let next_cursor: String?
}

@Suite("API: police embedding arrangements")
struct EmbeddingArrangementTests {
    private func room(_ client: some TestClientProtocol, _ keys: TestKeys) async throws -> String {
        try await client.send(.post, "/v1/control-rooms", keys(.operator), #"{"name": "WCC", "boroughs_served": ["E09000033"]}"#).decode(
            RoomBody.self
        ).id
    }

    @Test func eachModelIsRecordedListedByDateChangedAndEnded() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let roomID = try await room(client, keys)
                var ids: [String: String] = [:]
                for (model, starts, ends) in [
                    ("embedded", "2024-04-01", nil), ("visiting", "2019-01-01", "2023-12-31"), ("remote_link", "2025-06-01", nil),
                ] as [(String, String, String?)] {
                    let body =
                        #"{"control_room_id": "\#(roomID)", "police_org_id": "\#(TestKeys.mps)", "model": "\#(model)", "starts_on": "\#(starts)", "staff_count": 3, "hours_per_week": 37.5, "agreement_ref": "ISA-\#(model)"\#(ends.map { #", "ends_on": "\#($0)""# } ?? "")}"#
                    // The force records it as readily as the room's operator.
                    let created = try await client.send(.post, "/v1/embedding-arrangements", keys(.partnerAdmin, of: TestKeys.mps), body)
                    #expect(created.status == .created, "\(created.text)")
                    ids[model] = try created.decode(ArrangementBody.self).id
                }
                let in2022 = try await client.send(.get, "/v1/embedding-arrangements?active_on=2022-06-01", keys(.analyst)).decode(
                    ArrangementPage.self)
                #expect(in2022.items.map(\.model) == ["visiting"])
                let now = try await client.send(.get, "/v1/embedding-arrangements?active_on=2025-07-01&control_room_id=\(roomID)", keys(.analyst))
                    .decode(ArrangementPage.self)
                #expect(now.items.map(\.model) == ["embedded", "remote_link"])
                #expect(now.items.allSatisfy { $0.active })
                let byPolice = try await client.send(.get, "/v1/embedding-arrangements?police_org_id=\(TestKeys.mps)&model=embedded", keys(.analyst))
                #expect(try byPolice.decode(ArrangementPage.self).items.count == 1)

                let path = "/v1/embedding-arrangements/\(ids["embedded"]!)"
                let changed = try await client.send(
                    .patch, path, keys(.operator), #"{"staff_count": 4, "review_due_on": "2026-04-01"}"#, ifMatch: "\"1\"")
                #expect(changed.status == .ok)
                let ended = try await client.send(.post, path + "/end", keys(.operator), #"{"ends_on": "2026-03-31"}"#, ifMatch: "\"2\"")
                #expect(ended.status == .ok)
                #expect(try ended.decode(ArrangementBody.self).ends_on == "2026-03-31")
                #expect(try await client.send(.post, path + "/end", keys(.operator), "{}", ifMatch: "\"3\"").status == .conflict)

                // The force, the room's operator and the borough hear of it; another force does not.
                let events = try await client.events(keys(.analyst, of: TestKeys.mps)) { page in
                    page.items.contains { $0.type == "embedding_arrangement.ended" }
                }
                #expect(
                    events.items.filter { $0.subject == "embedding_arrangement/\(ids["embedded"]!)" }.map(\.type)
                        == ["embedding_arrangement.created", "embedding_arrangement.updated", "embedding_arrangement.ended"])
                let tfl = try await client.send(.get, "/v1/events", keys(.operator, of: TestKeys.tfl)).decode(EventPage.self)
                #expect(tfl.items.isEmpty)
            }
        }
    }

    @Test func onlyTheRoomsOperatorTheForceOrAnAdminMayRecordOne() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let roomID = try await room(client, keys)
                let body = #"{"control_room_id": "\#(roomID)", "police_org_id": "\#(TestKeys.mps)", "model": "visiting", "starts_on": "2026-01-01"}"#
                #expect(try await client.send(.post, "/v1/embedding-arrangements", keys(.operator, of: TestKeys.tfl), body).status == .forbidden)
                #expect(try await client.send(.post, "/v1/embedding-arrangements", keys(.operator), body).status == .created)
                let notPolice =
                    #"{"control_room_id": "\#(roomID)", "police_org_id": "\#(TestKeys.tfl)", "model": "visiting", "starts_on": "2026-01-01"}"#
                let refused = try await client.send(.post, "/v1/embedding-arrangements", keys(.operator), notPolice)
                #expect(refused.status == .badRequest)
                #expect(try refused.decode(ProblemBody.self).errors?.first?.pointer == "/police_org_id")
            }
        }
    }

    @Test(arguments: [
        (#""model": "seconded", "starts_on": "2026-01-01""#, "/model"),
        (#""model": "embedded", "starts_on": "2026-02-30""#, "/starts_on"),
        (#""model": "embedded", "starts_on": "2026-01-01", "ends_on": "2025-12-31""#, "/ends_on"),
        (#""model": "embedded", "starts_on": "2026-01-01", "hours_per_week": 169"#, "/hours_per_week"),
        (#""model": "embedded", "starts_on": "2026-01-01", "staff_count": -1"#, "/staff_count"),
        (#""model": "embedded", "starts_on": "2026-01-01", "review_due_on": "2025-01-01""#, "/review_due_on"),
    ])
    func badArrangementsAre400NamingTheFieldAndWriteNothing(fields: String, pointer: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let roomID = try await room(client, keys)
                let body = #"{"control_room_id": "\#(roomID)", "police_org_id": "\#(TestKeys.mps)", \#(fields)}"#
                let response = try await client.send(.post, "/v1/embedding-arrangements", keys(.operator), body)
                #expect(response.status == .badRequest, "\(response.text)")
                #expect(try response.decode(ProblemBody.self).errors?.contains { $0.pointer == pointer } == true, "\(response.text)")
                let count = try await pool.withConnection {
                    try await $0.query("SELECT count(*) FROM embedding_arrangements")[0].decode(0, as: Int.self)
                }
                #expect(count == 0)
            }
        }
    }
}

struct StatisticsBody: Decodable {
    struct Group: Decodable, Equatable {
        let key: String
        let counts: [Int]
    }
    let group_by: String
    let as_of: [String]
    let groups: [Group]
    let totals: [Int]
}

@Suite("API: camera statistics as of a date")
struct CameraStatisticsTests {
    @Test func countsCamerasInServiceOnEachDateByGroupWithoutCovertOnesForOthers() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let cameras: [(kind: String, extra: String)] = [
                    ("fixed", #", "commissioned_on": "2010-01-01", "status": "decommissioned", "decommissioned_on": "2020-01-01""#),  // 2013 only
                    ("fixed", #", "commissioned_on": "2015-06-01""#),  // 2023 only
                    ("ptz", #", "commissioned_on": "2012-03-01""#),  // both
                    ("fixed", #", "status": "planned""#),  // neither
                    ("fixed", ""),  // registered today with no commissioning date: neither
                ]
                for (kind, extra) in cameras {
                    let body = #"{"kind": "\#(kind)", "location": {"lat": 51.50095, "lon": -0.12655}\#(extra)}"#
                    let response = try await client.send(.post, "/v1/cameras", keys(.operator), body)
                    #expect(response.status == .created, "\(response.text)")
                }
                let covert = #"{"kind": "other", "covert": true, "commissioned_on": "2011-01-01", "location": {"lat": 51.5, "lon": -0.13}}"#
                #expect(try await client.send(.post, "/v1/cameras", keys.covert(.operator, of: TestKeys.westminster), covert).status == .created)

                let query = "/v1/statistics/cameras?as_of=2013-12-31,2023-12-31&group_by=kind"
                let open = try await client.send(.get, query, keys(.analyst)).decode(StatisticsBody.self)
                #expect(open.as_of == ["2013-12-31", "2023-12-31"])
                #expect(open.groups == [.init(key: "fixed", counts: [1, 1]), .init(key: "ptz", counts: [1, 1])])
                #expect(open.totals == [2, 2])
                // The disclosable figure for every key unless covert cameras are asked for, by a key that may know of them.
                #expect(try await client.send(.get, query, keys.covert(.requester, of: TestKeys.mps)).decode(StatisticsBody.self).totals == [2, 2])
                let knowing = try await client.send(.get, query + "&include_covert=true", keys.covert(.requester, of: TestKeys.mps)).decode(
                    StatisticsBody.self)
                #expect(knowing.totals == [3, 3])
                #expect(knowing.groups.contains(.init(key: "other", counts: [1, 1])))
                let byOwner = try await client.send(.get, "/v1/statistics/cameras?as_of=2023-12-31&group_by=owner_kind", keys(.analyst))
                #expect(try byOwner.decode(StatisticsBody.self).groups == [.init(key: "borough", counts: [2])])
                let byBorough = try await client.send(.get, "/v1/statistics/cameras?as_of=2013-12-31&group_by=borough", keys(.analyst))
                #expect(try byBorough.decode(StatisticsBody.self).groups == [.init(key: "E09000033", counts: [2])])
            }
        }
    }

    @Test(arguments: [
        ("as_of=2013-13-01&group_by=kind", "as_of"), ("as_of=&group_by=kind", "as_of"),
        ("as_of=" + Array(repeating: "2020-01-01", count: 11).joined(separator: ",") + "&group_by=kind", "as_of"),
        ("as_of=2020-01-01&group_by=colour", "group_by"),
    ])
    func badRequestsAre400NamingTheParameter(query: String, parameter: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let response = try await client.send(.get, "/v1/statistics/cameras?" + query, keys(.analyst))
                #expect(response.status == .badRequest)
                #expect(try response.decode(ProblemBody.self).errors?.first?.pointer == "#/parameters/" + parameter, "\(response.text)")
            }
        }
    }
}

@Suite("API: camera exports")
struct CameraExportAPITests {
    @Test func csvIsRFC4180WithFormulasNeutralisedAndNeverCovertCameras() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let hostile = try await client.send(
                    .post, "/v1/cameras", keys(.operator),
                    Places.camera(Places.westminster, extra: #", "external_ref": "=HYPERLINK(\"http://evil\",\"x\")""#)
                ).decode(CameraBody.self)
                let covert = try await client.send(
                    .post, "/v1/cameras", keys.covert(.operator, of: TestKeys.westminster),
                    Places.camera(Places.westminster, extra: #", "covert": true"#)
                ).decode(CameraBody.self)
                _ = try await RegistrySeeder(Database(pool: pool)).addSyntheticCameras(count: 1_200, actor: .commandLine("test"))
                // Even a key that may know of covert cameras exports none.
                let response = try await client.send(.get, "/v1/cameras/export?format=csv", keys.covert(.requester, of: TestKeys.mps))
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/csv") == true)
                let text = response.text
                let lines = text.components(separatedBy: "\r\n").dropLast()
                #expect(text.hasSuffix("\r\n"))
                #expect(
                    lines.first
                        == "id,owner_org_id,control_room_id,external_ref,kind,lat,lon,borough_gss,heading_deg,field_of_view_deg,max_dori,retention_days,status,commissioned_on,decommissioned_on,last_replaced_on,condition,public_space"
                )
                let rows = lines.dropFirst()
                let total = try await pool.withConnection {
                    try await $0.query("SELECT count(*) FROM cameras WHERE NOT covert")[0].decode(0, as: Int.self)
                }
                #expect(rows.count == total && total > 1_000)
                #expect(Set(rows.map { $0.prefix(36) }).count == rows.count)
                #expect(!text.contains(covert.id))
                let line = try #require(rows.first { $0.hasPrefix(hostile.id) })
                #expect(line.contains(#""'=HYPERLINK(""http://evil"",""x"")""#))
                #expect(line.contains(",51.50095,-0.12655,E09000033,"))

                let filtered = try await client.send(.get, "/v1/cameras/export?format=csv&borough=E09000001", keys(.analyst)).text
                let cityCount = try await pool.withConnection {
                    try await $0.query("SELECT count(*) FROM cameras WHERE borough_gss = 'E09000001' AND NOT covert")[0].decode(0, as: Int.self)
                }
                #expect(filtered.components(separatedBy: "\r\n").count - 2 == cityCount)
            }
        }
    }

    @Test func geoJSONIsAFeatureCollectionOfPointsLongitudeFirst() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                _ = try await RegistrySeeder(Database(pool: pool)).addSyntheticCameras(count: 700, actor: .commandLine("test"))
                let response = try await client.send(.get, "/v1/cameras/export?format=geojson", keys(.analyst))
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/geo+json")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
                #expect(object["type"] as? String == "FeatureCollection")
                let features = try #require(object["features"] as? [[String: Any]])
                #expect(features.count == 700)
                for feature in features {
                    let coordinates = try #require((feature["geometry"] as? [String: Any])?["coordinates"] as? [Double])
                    // London: longitude about -0.5 to 0.3, latitude about 51.3 to 51.7.
                    #expect((-0.6...0.4).contains(coordinates[0]) && (51.2...51.8).contains(coordinates[1]))
                }
                // Every coordinate written has at most 7 decimals.
                let coordinateTexts: [String] = response.text.components(separatedBy: #""coordinates":["#).dropFirst().flatMap { chunk -> [String] in
                    let inside = chunk.components(separatedBy: "]")[0]
                    return inside.components(separatedBy: ",")
                }
                #expect(coordinateTexts.count == 1_400)
                #expect(coordinateTexts.allSatisfy { ($0.components(separatedBy: ".").dropFirst().first?.count ?? 0) <= 7 })
                #expect(try await client.send(.get, "/v1/cameras/export?format=xlsx", keys(.analyst)).status == .badRequest)
            }
        }
    }
}

struct ImportBody: Decodable { let imported: Int }

@Suite("API: bulk import of cameras")
struct CameraImportTests {
    private func post(_ client: some TestClientProtocol, _ keys: TestKeys, csv: String) async throws -> TestResponse {
        var headers = keys(.operator)
        headers[.contentType] = "text/csv"
        return try await client.execute(uri: "/v1/cameras/import", method: .post, headers: headers, body: ByteBuffer(string: csv))
    }

    private func counts(_ pool: PostgresPool) async throws -> (cameras: Int, events: Int) {
        try await pool.withConnection { connection in
            let row = try await connection.query("SELECT (SELECT count(*) FROM cameras), (SELECT count(*) FROM events)")[0]
            return (try row.decode(0), try row.decode(1))
        }
    }

    @Test func aGoodCSVRegistersEveryRowWithItsEvent() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let csv =
                    "\u{FEFF}id,owner_org_id,external_ref,kind,lat,lon,max_dori,commissioned_on,public_space\r\n"
                    + ",,\"WCC-001, Parliament Sq\",fixed,51.50095,-0.12655,identify,2014-05-01,true\r\n"
                    + ",,\"WCC-002 \"\"north\"\"\",ptz,51.51939,-0.12694,,,\r\n"
                    + "ignored,ignored,WCC-003,anpr,51.4546,-0.9781,,,false\r\n"
                let response = try await post(client, keys, csv: csv)
                #expect(response.status == .created, "\(response.text)")
                #expect(try response.decode(ImportBody.self).imported == 3)
                let after = try await counts(pool)
                #expect(after.cameras == 3 && after.events == 3)
                let boroughs: [String?] = try await pool.withConnection { connection in
                    try await connection.query("SELECT borough_gss FROM cameras ORDER BY external_ref").map { try $0.decode(0) }
                }
                #expect(boroughs == ["E09000033", "E09000007", nil])
                let refs: [String] = try await pool.withConnection { connection in
                    try await connection.query("SELECT external_ref FROM cameras ORDER BY external_ref").map { try $0.decode(0) }
                }
                #expect(refs == ["WCC-001, Parliament Sq", "WCC-002 \"north\"", "WCC-003"])
                // The same references again are refused, row by row.
                let again = try await post(client, keys, csv: "external_ref,kind,lat,lon\nWCC-003,fixed,51.5,-0.1\n")
                #expect(try again.decode(ProblemBody.self).errors?.map(\.pointer) == ["/rows/2/external_ref"])
            }
        }
    }

    @Test(arguments: [
        ("kind,lat,lon\nfixed,51.5,\"-0.1\n", "/rows/2"),
        ("kind,lat,lon\nfixed,51.5,-0\"1\n", "/rows/2"),
        ("kind,lat,lon\nfixed,51.5,-0.1\ndome,51.5,-0.1\n", "/rows/3/kind"),  // the good row 2 is not written either
        ("kind,lat,lon\nfixed,91,-0.1\n", "/rows/2/lat"),
        ("kind,lat,lon\nfixed,51.5,-181\n", "/rows/2/lon"),
        (
            "kind,lat,lon,commissioned_on,decommissioned_on,status\nfixed,51.5,-0.1,2020-01-01,2019-01-01,decommissioned\n",
            "/rows/2/decommissioned_on"
        ),
        ("kind,lat,lon\nfixed,51.5\n", "/rows/2"),
        ("kind,lat,colour\nfixed,51.5,red\n", "/rows/1/colour"),
        ("kind,lat,lon,external_ref\nfixed,51.5,-0.1,A\nfixed,51.5,-0.1,A\n", "/rows/3/external_ref"),
        ("kind,lat,lon,control_room_id\nfixed,51.5,-0.1,00000000-0000-4000-8000-000000000000\n", "/rows/2/control_room_id"),
        ("kind,lat,lon\n", "/rows"),
    ])
    func aBadCSVIsRefusedWholeNamingTheRowAndField(csv: String, pointer: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let response = try await post(client, keys, csv: csv)
                #expect(response.status == .badRequest, "\(response.text)")
                #expect(try response.decode(ProblemBody.self).errors?.contains { $0.pointer == pointer } == true, "\(response.text)")
                let after = try await counts(pool)
                #expect(after.cameras == 0 && after.events == 0)
            }
        }
    }

    @Test func theProblemListsEveryBadRowAndItsDetailNamesTheFirstFew() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let response = try await post(client, keys, csv: "kind,lat,lon\n" + String(repeating: "fixed,91,-0.1\n", count: 5))
                #expect(response.status == .badRequest)
                let problem = try response.decode(ProblemBody.self)
                #expect(problem.errors?.map(\.pointer) == (2...6).map { "/rows/\($0)/lat" })
                let latitude = "must be a latitude from -90 to 90"
                #expect(problem.detail == "/rows/2/lat \(latitude); /rows/3/lat \(latitude); /rows/4/lat \(latitude); and 2 more.")
                #expect(try await counts(pool).cameras == 0)
            }
        }
    }

    @Test func tenThousandRowsGoInOneCallAndTenThousandAndOneDoNot() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                func file(_ rows: Int) -> String {
                    "kind,lat,lon,external_ref\n"
                        + (0..<rows).map { "fixed,\(51.40 + Double($0 % 100) * 0.002),\(-0.30 + Double($0 / 100) * 0.004),R\($0)\n" }.joined()
                }
                let tooMany = try await post(client, keys, csv: file(10_001))
                #expect(tooMany.status == .badRequest)
                #expect(try tooMany.decode(ProblemBody.self).errors?.first?.pointer == "/rows")
                let response = try await post(client, keys, csv: file(10_000))
                #expect(response.status == .created, "\(response.text.prefix(300))")
                #expect(try response.decode(ImportBody.self).imported == 10_000)
                let after = try await counts(pool)
                #expect(after.cameras == 10_000 && after.events == 10_000)
            }
        }
    }

    @Test func geoJSONPointsAreImportedAndOtherGeometriesRefused() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                var headers = keys(.operator)
                headers[.contentType] = "application/geo+json"
                let good =
                    #"{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-0.12655, 51.50095]}, "properties": {"kind": "ptz", "condition": 4, "public_space": true, "external_ref": "G1"}}]}"#
                let response = try await client.execute(uri: "/v1/cameras/import", method: .post, headers: headers, body: ByteBuffer(string: good))
                #expect(response.status == .created, "\(response.text)")
                let polygon =
                    #"{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-0.1, 51.5]}, "properties": {"kind": "fixed"}}, {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[-0.1, 51.5], [-0.2, 51.5], [-0.2, 51.6], [-0.1, 51.5]]]}, "properties": {"kind": "fixed"}}]}"#
                let refused = try await client.execute(uri: "/v1/cameras/import", method: .post, headers: headers, body: ByteBuffer(string: polygon))
                #expect(refused.status == .badRequest)
                #expect(try refused.decode(ProblemBody.self).errors?.map(\.pointer) == ["/features/1/geometry"])
                let badLat =
                    #"{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-0.1, 95]}, "properties": {"kind": "fixed", "condition": "good"}}]}"#
                let both = try await client.execute(uri: "/v1/cameras/import", method: .post, headers: headers, body: ByteBuffer(string: badLat))
                #expect(Set(try both.decode(ProblemBody.self).errors?.map(\.pointer) ?? []) == ["/features/0/properties/condition"])
                let count = try await counts(pool)
                #expect(count.cameras == 1)
            }
        }
    }
}
