import API
import Crypto
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import LibPQ
import Prometheus
import Storage
import TestSupport
import Testing

/// A small London around Parliament Square: who holds which camera, made directly in the database.
struct EvidenceWorld {
    /// Westminster's room (MPS officers embedded) and TfL's room (MPS officers visit).
    let westminsterRoom: UUID
    let tflRoom: UUID
    /// Two Westminster cameras, one TfL camera, a Camden camera no room monitors, a Westminster camera that keeps
    /// footage one day, a covert MPS camera, a planned camera (all at the incident) and one a kilometre and a half away.
    let w1, w2, tfl, camden, shortRetention, covert, planned, far: UUID

    static func make(_ pool: PostgresPool) async throws -> EvidenceWorld {
        try await pool.withConnection { connection in
            func room(_ operatorID: UUID, _ name: String) async throws -> UUID {
                try await connection.query(
                    "INSERT INTO control_rooms (operator_org_id, name) VALUES ($1, $2) RETURNING id", operatorID, name
                )[0].decode(0)
            }
            let westminsterRoom = try await room(TestKeys.westminster, "Westminster CCTV")
            let tflRoom = try await room(TestKeys.tfl, "TfL centre")
            func camera(
                _ owner: UUID, _ room: UUID?, lat: Double = Places.westminster.lat, lon: Double = Places.westminster.lon,
                dori: String = "identify", retention: Int? = nil, covert: Bool = false, status: String = "operational"
            ) async throws -> UUID {
                try await connection.query(
                    """
                    INSERT INTO cameras (owner_org_id, control_room_id, kind, location, max_dori, retention_days, covert, status)
                    VALUES ($1, $2, 'fixed', ST_SetSRID(ST_MakePoint($4, $3), 4326)::geography, $5, $6, $7, $8) RETURNING id
                    """,
                    owner, room, lat, lon, dori, retention, covert, status
                )[0].decode(0)
            }
            let world = EvidenceWorld(
                westminsterRoom: westminsterRoom, tflRoom: tflRoom,
                w1: try await camera(TestKeys.westminster, westminsterRoom),
                w2: try await camera(TestKeys.westminster, westminsterRoom, lat: Places.westminster.lat + 0.0003),
                tfl: try await camera(TestKeys.tfl, tflRoom, dori: "observe"), camden: try await camera(TestKeys.camden, nil),
                shortRetention: try await camera(TestKeys.westminster, westminsterRoom, retention: 1),
                covert: try await camera(TestKeys.mps, nil, covert: true),
                planned: try await camera(TestKeys.westminster, westminsterRoom, status: "planned"),
                far: try await camera(TestKeys.westminster, westminsterRoom, lat: Places.westminster.lat + 0.0135)
            )
            try await connection.query(
                """
                INSERT INTO embedding_arrangements (control_room_id, police_org_id, model, starts_on)
                VALUES ($1, $3, 'embedded', '2020-01-01'), ($2, $3, 'visiting', '2020-01-01')
                """,
                westminsterRoom, tflRoom, TestKeys.mps
            )
            return world
        }
    }
}

struct RequestBody: Decodable {
    let id: String
    let reference: String
    let status: String
    let status_reason: String?
    let version: Int
    let tasks: [TaskBody]?
    let excluded_cameras: [Excluded]?

    struct Excluded: Decodable {
        let camera_id: String
        let reason: String
    }
}

struct TaskBody: Decodable {
    let id: String
    let request_id: String
    let holder_org_id: String
    let control_room_id: String?
    let status: String
    let at_risk: Bool
    let version: Int
    let cameras: [TaskCamera]
    let allowed_actions: [String]
    let items: [ItemBody]?
    let hold_until: String?

    struct TaskCamera: Decodable {
        let camera_id: String
        let outcome: String
    }
}

struct TaskPage: Decodable {
    let items: [TaskBody]
    let next_cursor: String?
}
struct ItemBody: Decodable {
    let id: String
    let status: String
    let sha256: String
    let size_bytes: Int64
}
struct CustodyPage: Decodable { let items: [Custody] }
struct Custody: Decodable {
    let event: String
    let organisation_id: String?
    let detail: [String: String]?
}

/// RFC 3339 for `date`, to the second.
func rfc3339(_ date: Date) -> String { date.formatted(.iso8601) }

/// A request body for the incident at Parliament Square that ended `hoursAgo` hours before `now`, lasting an hour.
func incident(
    hoursAgo: Double = 72, radius: Int = 100, priority: String = "standard", offence: String = "robbery", extra: String = "", now: Date = Date()
) -> String {
    let to = now.addingTimeInterval(-hoursAgo * 3600)
    return #"{"crime_reference": "CRIS 1234567/26", "offence": "\#(offence)", "priority": "\#(priority)", "authorised_by": "DS Amy Clarke", "#
        + #""requester_contact": {"name": "DC Sam Patel", "role": "DC", "email": "sam.patel@met.police.uk", "phone": "020 7230 1212"}, "#
        + #""location": {"lat": \#(Places.westminster.lat), "lon": \#(Places.westminster.lon)}, "radius_m": \#(radius), "#
        + #""window_from": "\#(rfc3339(to.addingTimeInterval(-3600)))", "window_to": "\#(rfc3339(to))"\#(extra)}"#
}

extension UUID {
    var text: String { uuidString.lowercased() }
}

@Suite("API: evidence requests, tasks, items and custody")
struct EvidenceTests {
    @Test func aRequestTasksEachHolderOnceAndListsWhatIsAlreadyOverwritten() async throws {
        try await TestDatabase.withFresh { pool, url in
            let world = try await EvidenceWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                let created = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident())
                #expect(created.status == .created, "\(created.text)")
                let request = try created.decode(RequestBody.self)
                #expect(request.reference.wholeMatch(of: /SL-20[0-9]{2}-[0-9]{6}/) != nil)
                #expect(request.status == "open")
                let tasks = try #require(request.tasks)
                // Westminster's room (two cameras), TfL's room and Camden (no room); not the covert, planned or far camera.
                #expect(Set(tasks.map(\.holder_org_id)) == [TestKeys.westminster.text, TestKeys.tfl.text, TestKeys.camden.text])
                let westminster = try #require(tasks.first { $0.holder_org_id == TestKeys.westminster.text })
                #expect(Set(westminster.cameras.map(\.camera_id)) == [world.w1.text, world.w2.text])
                #expect(westminster.control_room_id == world.westminsterRoom.text)
                #expect(tasks.first { $0.holder_org_id == TestKeys.camden.text }?.control_room_id == nil)
                #expect(tasks.allSatisfy { $0.status == "pending" && !$0.at_risk && $0.allowed_actions == ["cancel"] })
                #expect(request.excluded_cameras?.map(\.camera_id) == [world.shortRetention.text])
                #expect(request.excluded_cameras?.first?.reason == "already_overwritten")
                #expect(try await count("events WHERE type = 'evidence_task.created'", pool) == 3)
                #expect(try await count("events WHERE type = 'evidence_request.created'", pool) == 1)
                // The 201 is built from what was written, not read back: it must be exactly what a read returns.
                let read = try await client.send(.get, "/v1/evidence-requests/" + request.id, keys(.requester, of: TestKeys.mps))
                #expect(read.text == created.text)

                // A DORI level leaves out the TfL camera (it can only observe); the window's last hour only.
                let strict = try await client.send(
                    .post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident(extra: #", "required_dori": "recognise""#)
                ).decode(RequestBody.self)
                #expect(!(strict.tasks ?? []).contains { $0.holder_org_id == TestKeys.tfl.text })

                // An explicit camera joins whatever its distance.
                let explicit = try await client.send(
                    .post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps),
                    incident(radius: 10, extra: #", "camera_ids": ["\#(world.far.text)"]"#)
                ).decode(RequestBody.self)
                #expect(explicit.tasks?.flatMap(\.cameras).map(\.camera_id).contains(world.far.text) == true)
            }
        }
    }

    @Test func aRequestThatFindsNothingIsStillRecordedWithTheReason() async throws {
        try await TestDatabase.withFresh { pool, url in
            _ = try await EvidenceWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                // The British Museum, where no camera is registered.
                let body = incident().replacingOccurrences(of: "\(Places.westminster.lat)", with: "\(Places.camden.lat)")
                    .replacingOccurrences(of: "\(Places.westminster.lon)", with: "\(Places.camden.lon)")
                let created = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), body)
                #expect(created.status == .created)
                let request = try created.decode(RequestBody.self)
                #expect(request.status == "no_footage")
                #expect(request.status_reason == "no_cameras_found")
                #expect(request.tasks?.isEmpty == true)
                let fetched = try await client.send(.get, "/v1/evidence-requests/" + request.id, keys(.requester, of: TestKeys.mps)).decode(
                    RequestBody.self)
                #expect(fetched.reference == request.reference)
            }
        }
    }

    @Test(arguments: [
        ("window of 25 hours", #""window_from": "2026-01-01T00:00:00Z", "window_to": "2026-01-02T01:00:00Z""#, "/window_to"),
        ("window_to before window_from", #""window_from": "2026-01-01T10:00:00Z", "window_to": "2026-01-01T09:00:00Z""#, "/window_to"),
        ("window in the future", #""window_from": "2999-01-01T10:00:00Z", "window_to": "2999-01-01T11:00:00Z""#, "/window_to"),
        ("radius 1,001 m", #""window_from": "2026-01-01T10:00:00Z", "window_to": "2026-01-01T11:00:00Z", "radius_m": 1001"#, "/radius_m"),
        (
            "unknown camera",
            #""window_from": "2026-01-01T10:00:00Z", "window_to": "2026-01-01T11:00:00Z", "camera_ids": ["0b0e7d3c-5a36-4c52-9e3a-5d6a8e0b9f11"]"#,
            "/camera_ids/0"
        ),
        (
            "camera id not a UUID", #""window_from": "2026-01-01T10:00:00Z", "window_to": "2026-01-01T11:00:00Z", "camera_ids": ["x"]"#,
            "/camera_ids/0"
        ),
        (
            "empty crime reference", #""window_from": "2026-01-01T10:00:00Z", "window_to": "2026-01-01T11:00:00Z", "crime_reference": " ""#,
            "/crime_reference"
        ),
    ])
    func badRequestsAre400NamingTheFieldAndWriteNothing(what: String, fields: String, pointer: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            _ = try await EvidenceWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                var body =
                    #"{"crime_reference": "CRIS 1", "offence": "theft", "priority": "urgent", "authorised_by": "DS A", "requester_contact": {"name": "DC B", "phone": "07700 900123"}, "#
                    + #""location": {"lat": 51.50095, "lon": -0.12655}, "# + fields + "}"
                if fields.contains("crime_reference") { body = body.replacingOccurrences(of: #""crime_reference": "CRIS 1", "#, with: "") }
                let response = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), body)
                #expect(response.status == .badRequest, "\(what): \(response.text)")
                #expect(try response.decode(ProblemBody.self).errors?.map(\.pointer).contains(pointer) == true, "\(what): \(response.text)")
                #expect(try await count("evidence_requests", pool) == 0)
                #expect(try await count("evidence_tasks", pool) == 0)
            }
        }
    }

    @Test func timesAreReadInEveryRFC3339FormAndOtherTextIsRefusedQuoted() async throws {
        let day = Date().addingTimeInterval(-3 * 86_400).formatted(.iso8601.year().month().day())
        try await TestDatabase.withFresh { pool, url in
            _ = try await EvidenceWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                func request(from: String, to: String) async throws -> TestResponse {
                    let body =
                        #"{"crime_reference": "CRIS 1", "offence": "theft", "priority": "urgent", "authorised_by": "DS A", "requester_contact": {"name": "DC B", "phone": "07700 900123"}, "#
                        + #""location": {"lat": 51.50095, "lon": -0.12655}, "window_from": "\#(from)", "window_to": "\#(to)"}"#
                    return try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), body)
                }
                // Milliseconds as JavaScript writes them, an offset, lower case: 09:00:00.250 to 09:30 UTC.
                let created = try await request(from: day + "T10:00:00.250+01:00", to: day + "t09:30:00z")
                #expect(created.status == .created, "\(created.text)")
                let json = try created.json()
                #expect(json["window_from"] as? String == day + "T09:00:00Z" && json["window_to"] as? String == day + "T09:30:00Z", "\(json)")
                // 30 February is no date: the problem names the field and quotes the text.
                let refused = try await request(from: "2026-02-30T10:00:00Z", to: day + "T09:30:00Z")
                #expect(refused.status == .badRequest)
                let problem = try refused.decode(ProblemBody.self)
                #expect(problem.type == "urn:sightline:problem:malformed-request")
                #expect(problem.errors?.map(\.pointer) == ["/window_from"], "\(refused.text)")
                #expect(problem.detail?.contains(#""2026-02-30T10:00:00Z" is not an RFC 3339 date-time"#) == true, "\(refused.text)")
                #expect(try await count("evidence_requests", pool) == 1)
            }
        }
    }

    @Test func covertCamerasAreTaskedOnlyForKeysThatMayKnowOfThem() async throws {
        try await TestDatabase.withFresh { pool, url in
            let world = try await EvidenceWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                let plain = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident()).decode(
                    RequestBody.self)
                #expect(!(plain.tasks ?? []).contains { $0.holder_org_id == TestKeys.mps.text })
                let covert = try await client.send(.post, "/v1/evidence-requests", keys.covert(.requester, of: TestKeys.mps), incident()).decode(
                    RequestBody.self)
                let covertTask = try #require(covert.tasks?.first { $0.holder_org_id == TestKeys.mps.text })
                #expect(covertTask.cameras.map(\.camera_id) == [world.covert.text])

                // Naming the covert camera without access looks exactly like naming one that does not exist.
                let named = try await client.send(
                    .post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident(extra: #", "camera_ids": ["\#(world.covert.text)"]"#)
                )
                let random = try await client.send(
                    .post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident(extra: #", "camera_ids": ["\#(UUID().text)"]"#)
                )
                #expect(named.status == .badRequest && random.status == .badRequest)
                #expect(try named.decode(ProblemBody.self).errors == random.decode(ProblemBody.self).errors)

                // The covert task is invisible to the force's plain keys: absent from the request, the queue and by id.
                let asPlain = try await client.send(.get, "/v1/evidence-requests/" + covert.id, keys(.requester, of: TestKeys.mps)).decode(
                    RequestBody.self)
                #expect(!(asPlain.tasks ?? []).contains { $0.id == covertTask.id })
                let queue = try await client.send(.get, "/v1/evidence-tasks?limit=500", keys(.requester, of: TestKeys.mps)).decode(TaskPage.self)
                #expect(!queue.items.contains { $0.id == covertTask.id })
                #expect(try await client.send(.get, "/v1/evidence-tasks/" + covertTask.id, keys(.requester, of: TestKeys.mps)).status == .notFound)
                #expect(try await client.send(.get, "/v1/evidence-tasks/" + covertTask.id, keys.covert(.requester, of: TestKeys.mps)).status == .ok)
            }
        }
    }

    @Test func referencesAreUniqueAndConsecutiveUnderConcurrency() async throws {
        try await TestDatabase.withFresh(maxConnections: 8) { pool, url in
            _ = try await EvidenceWorld.make(pool)
            // Many requests queue for the server's four connections: on a loaded machine a queued one may wait beyond
            // the usual 5 s and be told 503, which is not what this test is about.
            try await withApp(pool: pool, url: url, acquireTimeout: .seconds(60)) { client, keys in
                let references = try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<20 {
                        group.addTask {
                            let response = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident())
                            #expect(response.status == .created, "\(response.text)")
                            return try response.decode(RequestBody.self).reference
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let numbers = references.compactMap { Int($0.suffix(6)) }.sorted()
                #expect(numbers == Array(1...20))
                #expect(Set(references.map { $0.prefix(7) }).count == 1)
            }
        }
    }

    @Test func theSameIdempotencyKeyReplayedConcurrentlyCreatesOneRequest() async throws {
        try await TestDatabase.withFresh(maxConnections: 8) { pool, url in
            _ = try await EvidenceWorld.make(pool)
            // Many requests queue for the server's four connections: on a loaded machine a queued one may wait beyond
            // the usual 5 s and be told 503, which is not what this test is about.
            try await withApp(pool: pool, url: url, acquireTimeout: .seconds(60)) { client, keys in
                var keyed = keys(.requester, of: TestKeys.mps)
                keyed[HTTPField.Name("Idempotency-Key")!] = "request-\(UUID())"
                let headers = keyed
                let body = incident()
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<8 { group.addTask { try await client.send(.post, "/v1/evidence-requests", headers, body).status } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses.allSatisfy { $0 == .created || $0 == .conflict })
                #expect(statuses.contains(.created))
                #expect(try await count("evidence_requests", pool) == 1)
                let replay = try await client.send(.post, "/v1/evidence-requests", headers, body)
                #expect(replay.status == .created)
                #expect(replay.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                #expect(try await count("evidence_requests", pool) == 1)
            }
        }
    }

    @Test func tasksMoveOnlyAsTheMachineAllowsWithIfMatchAndTheRequestFollows() async throws {
        try await TestDatabase.withFresh(maxConnections: 8) { pool, url in
            _ = try await EvidenceWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                let request = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident()).decode(
                    RequestBody.self)
                let tasks = try #require(request.tasks)
                let westminster = try #require(tasks.first { $0.holder_org_id == TestKeys.westminster.text })
                let path = "/v1/evidence-tasks/" + westminster.id + "/transitions"
                let holder = keys(.operator)

                // The holder's queue has it; If-Match is required and must be current.
                let queue = try await client.send(.get, "/v1/evidence-tasks", holder).decode(TaskPage.self)
                #expect(queue.items.map(\.id) == [westminster.id])
                #expect(queue.items[0].allowed_actions == ["acknowledge", "reject", "record_no_footage"])
                #expect(try await client.send(.post, path, holder, #"{"action": "acknowledge"}"#).status == .preconditionRequired)
                #expect(try await client.send(.post, path, holder, #"{"action": "acknowledge"}"#, ifMatch: "\"7\"").status == .preconditionFailed)

                // A move the state does not allow is 409 with the moves that are.
                let early = try await client.send(.post, path, holder, #"{"action": "export"}"#, ifMatch: "\"1\"")
                #expect(early.status == .conflict)
                #expect(early.text.contains(#""allowed_actions":["acknowledge","reject","record_no_footage"]"#))
                // The requester cannot act for the holder, nor the holder for the requester.
                #expect(
                    try await client.send(.post, path, keys(.requester, of: TestKeys.mps), #"{"action": "acknowledge"}"#, ifMatch: "\"1\"").status
                        == .forbidden)
                #expect(try await client.send(.post, path, holder, #"{"action": "cancel"}"#, ifMatch: "\"1\"").status == .forbidden)
                // A reason is required to reject.
                #expect(try await client.send(.post, path, holder, #"{"action": "reject"}"#, ifMatch: "\"1\"").status == .badRequest)

                // Two operators acknowledge at once: one wins, the other is told it changed.
                let results = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<2 {
                        group.addTask { try await client.send(.post, path, holder, #"{"action": "acknowledge"}"#, ifMatch: "\"1\"").status }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(results.sorted { $0.code < $1.code } == [.ok, .preconditionFailed])
                let acknowledged = try await client.send(.get, "/v1/evidence-tasks/" + westminster.id, holder).decode(TaskBody.self)
                #expect(acknowledged.status == "acknowledged" && acknowledged.hold_until != nil && acknowledged.version == 2)

                // Export needs an item first.
                let empty = try await client.send(.post, path, holder, #"{"action": "export"}"#, ifMatch: "\"2\"")
                #expect(empty.status == .conflict)
                let item = try await client.send(.post, "/v1/evidence-tasks/" + westminster.id + "/items", holder, Self.item(Data("footage".utf8)))
                #expect(item.status == .created, "\(item.text)")
                let exported = try await client.send(.post, path, holder, #"{"action": "export"}"#, ifMatch: "\"2\"").decode(TaskBody.self)
                #expect(exported.status == "exported" && exported.allowed_actions.isEmpty)
                #expect(exported.cameras.allSatisfy { $0.outcome == "no_footage" })

                // The other holders settle; the request completes when the last does.
                let tfl = try #require(tasks.first { $0.holder_org_id == TestKeys.tfl.text })
                let camden = try #require(tasks.first { $0.holder_org_id == TestKeys.camden.text })
                // TfL's and Camden's tasks belong to organisations without keys here: the requester cancels one, and an
                // admin of neither cannot touch the other.
                #expect(
                    try await client.send(
                        .post, "/v1/evidence-tasks/" + tfl.id + "/transitions", keys(.operator), #"{"action": "acknowledge"}"#, ifMatch: "\"1\""
                    ).status == .notFound)
                let cancelled = try await client.send(
                    .post, "/v1/evidence-tasks/" + tfl.id + "/transitions", keys(.requester, of: TestKeys.mps), #"{"action": "cancel"}"#,
                    ifMatch: "\"1\""
                )
                #expect(try cancelled.decode(TaskBody.self).status == "cancelled")
                #expect(
                    try await client.send(.get, "/v1/evidence-requests/" + request.id, keys(.requester, of: TestKeys.mps)).decode(RequestBody.self)
                        .status == "open")
                let cancelAll = try await client.send(
                    .post, "/v1/evidence-requests/" + request.id + "/cancel", keys(.requester, of: TestKeys.mps), "{}", ifMatch: "\"1\"")
                #expect(cancelAll.status == .ok, "\(cancelAll.text)")
                let settled = try cancelAll.decode(RequestBody.self)
                #expect(settled.status == "completed")
                #expect(settled.tasks?.first { $0.id == camden.id }?.status == "cancelled")
                #expect(try await count("events WHERE type = 'evidence_request.completed'", pool) == 1)
                // Nothing is left to cancel.
                #expect(
                    try await client.send(
                        .post, "/v1/evidence-requests/" + request.id + "/cancel", keys(.requester, of: TestKeys.mps), "{}",
                        ifMatch: "\"\(settled.version)\""
                    ).status == .conflict)

                // The requester collects; the items follow.
                let collected = try await client.send(
                    .post, path, keys(.requester, of: TestKeys.mps), #"{"action": "collect"}"#, ifMatch: "\"3\""
                ).decode(TaskBody.self)
                #expect(collected.status == "collected")
                #expect(collected.items?.allSatisfy { $0.status == "collected" } == true)
                #expect(
                    try await count("audit_pending WHERE action LIKE 'evidence_%'", pool) + count("audit_log WHERE action LIKE 'evidence_%'", pool)
                        >= 8)
            }
        }
    }

    @Test func onlyTheRequesterAndHolderSeeATaskAndEmbeddedOfficersActOnlyWhereEmbedded() async throws {
        try await TestDatabase.withFresh { pool, url in
            _ = try await EvidenceWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                let request = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident()).decode(
                    RequestBody.self)
                let tasks = try #require(request.tasks)
                let westminster = try #require(tasks.first { $0.holder_org_id == TestKeys.westminster.text })
                let tfl = try #require(tasks.first { $0.holder_org_id == TestKeys.tfl.text })

                // Who sees the Westminster task: its holder's and requester's organisations (any of their evidence roles); TfL,
                // the holder of another task of the same request, does not.
                let seers: [(String, HTTPFields, HTTPResponse.Status)] = [
                    ("Westminster operator", keys(.operator), .ok), ("Westminster partner admin", keys(.partnerAdmin), .ok),
                    ("MPS requester", keys(.requester, of: TestKeys.mps), .ok),
                    ("MPS embedded officer", keys(.embeddedOfficer, of: TestKeys.mps), .ok),
                    ("TfL operator", keys.covert(.operator, of: TestKeys.tfl), .notFound), ("Westminster requester", keys(.requester), .ok),
                    ("MPS operator", keys(.operator, of: TestKeys.mps), .ok),
                ]
                for (who, key, status) in seers {
                    #expect(try await client.send(.get, "/v1/evidence-tasks/" + westminster.id, key).status == status, "\(who)")
                }
                // Requests are their requester's alone; lists leak nothing.
                #expect(try await client.send(.get, "/v1/evidence-requests/" + request.id, keys(.requester)).status == .notFound)
                #expect(try await client.send(.get, "/v1/evidence-requests", keys(.requester)).decode(TaskPage.self).items.isEmpty)
                let tflQueue = try await client.send(.get, "/v1/evidence-tasks", keys.covert(.operator, of: TestKeys.tfl)).decode(TaskPage.self)
                #expect(tflQueue.items.map(\.id) == [tfl.id])

                // The MPS is embedded in Westminster's room: its embedded officer may act for the holder there...
                let officer = keys(.embeddedOfficer, of: TestKeys.mps)
                let seen = try await client.send(.get, "/v1/evidence-tasks/" + westminster.id, officer).decode(TaskBody.self)
                #expect(seen.allowed_actions == ["acknowledge", "reject", "record_no_footage", "cancel"])
                let acknowledged = try await client.send(
                    .post, "/v1/evidence-tasks/" + westminster.id + "/transitions", officer, #"{"action": "acknowledge"}"#, ifMatch: "\"1\""
                )
                #expect(acknowledged.status == .ok)
                // ...but only visits TfL's, where it may not.
                let refused = try await client.send(
                    .post, "/v1/evidence-tasks/" + tfl.id + "/transitions", officer, #"{"action": "acknowledge"}"#, ifMatch: "\"1\""
                )
                #expect(refused.status == .forbidden)
            }
        }
    }

    /// A registration body for `content`.
    static func item(_ content: Data, exhibit: String = "AC/1") -> String {
        let hash = SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined()
        return #"{"exhibit_ref": "\#(exhibit)", "file_name": "cam1.mp4", "format": "mp4", "size_bytes": \#(content.count), "sha256": "\#(hash)", "#
            + #""recorded_from": "\#(rfc3339(Date().addingTimeInterval(-40 * 86_400)))", "recorded_to": "\#(rfc3339(Date()))", "clock_offset_s": -3}"#
    }

    @Test func contentIsUploadedOnceIfItMatchesAndDownloadedWithRangesIntoTheCustodyTrail() async throws {
        try await TestDatabase.withFresh { pool, url in
            _ = try await EvidenceWorld.make(pool)
            let directory = FileManager.default.temporaryDirectory.path + "/sightline-evidence-" + UUID().uuidString
            try await withApp(pool: pool, url: url, evidence: EvidenceSettings(directory: directory)) { client, keys in
                let request = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident()).decode(
                    RequestBody.self)
                let task = try #require(request.tasks?.first { $0.holder_org_id == TestKeys.westminster.text })
                let holder = keys(.operator)
                _ = try await client.send(
                    .post, "/v1/evidence-tasks/" + task.id + "/transitions", holder, #"{"action": "acknowledge"}"#, ifMatch: "\"1\"")
                let content = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
                let item = try await client.send(.post, "/v1/evidence-tasks/" + task.id + "/items", holder, Self.item(content)).decode(ItemBody.self)
                let contentPath = "/v1/evidence-items/" + item.id + "/content"
                func upload(_ data: Data, _ key: HTTPFields) async throws -> TestResponse {
                    var headers = key
                    headers[.contentType] = "application/octet-stream"
                    return try await client.execute(uri: contentPath, method: .put, headers: headers, body: ByteBuffer(bytes: data))
                }

                // Different bytes of the same length, then too few bytes: refused, nothing kept.
                var altered = content
                altered[1000] ^= 0xFF
                let wrongHash = try await upload(altered, holder)
                #expect(wrongHash.status == .unprocessableContent)
                #expect(try wrongHash.decode(ProblemBody.self).type == "urn:sightline:problem:content-mismatch")
                #expect(try await upload(content.prefix(100), holder).status == .unprocessableContent)
                #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/incoming").isEmpty)
                #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/items").isEmpty)
                // The requester may not upload; the holder may, once.
                #expect(try await upload(content, keys(.requester, of: TestKeys.mps)).status == .forbidden)
                let uploaded = try await upload(content, holder)
                #expect(uploaded.status == .ok, "\(uploaded.text)")
                #expect(try uploaded.decode(ItemBody.self).status == "available")
                #expect(try await upload(content, holder).status == .conflict)

                // Downloads: whole, a range, a suffix, beyond the end; each one a custody event.
                let requester = keys(.requester, of: TestKeys.mps)
                let whole = try await client.send(.get, contentPath, requester)
                #expect(whole.status == .ok)
                #expect(Data(buffer: whole.body) == content)
                #expect(whole.headers[.eTag] == "\"" + item.sha256 + "\"")
                #expect(whole.headers[.acceptRanges] == "bytes")
                var ranged = requester
                ranged[.range] = "bytes=100-199"
                let part = try await client.send(.get, contentPath, ranged)
                #expect(part.status == .partialContent)
                #expect(part.headers[.contentRange] == "bytes 100-199/300000")
                #expect(Data(buffer: part.body) == content[100..<200])
                ranged[.range] = "bytes=-10"
                #expect(Data(buffer: try await client.send(.get, contentPath, ranged).body) == content.suffix(10))
                ranged[.range] = "bytes=300000-"
                let beyond = try await client.send(.get, contentPath, ranged)
                #expect(beyond.status == .rangeNotSatisfiable)
                #expect(beyond.headers[.contentRange] == "bytes */300000")
                // Another organisation learns nothing.
                #expect(try await client.send(.get, contentPath, keys.covert(.operator, of: TestKeys.tfl)).status == .notFound)
                #expect(try await client.send(.get, "/v1/evidence-items/" + item.id, keys.covert(.operator, of: TestKeys.tfl)).status == .notFound)

                let handover = try await client.send(
                    .post, "/v1/evidence-items/" + item.id + "/handover", requester, #"{"received_by": "PC 123 Smith"}"#)
                #expect(handover.status == .created)
                let custody = try await client.send(.get, "/v1/evidence-items/" + item.id + "/custody", holder).decode(CustodyPage.self)
                #expect(custody.items.map(\.event) == ["exported", "uploaded", "downloaded", "downloaded", "downloaded", "handed_over"])
                #expect(custody.items[3].detail?["range"] == "bytes=100-199")
                #expect(
                    try await count("audit_pending WHERE action = 'evidence_item.download'", pool)
                        + count("audit_log WHERE action = 'evidence_item.download'", pool) == 3)
                // The trail is append-only, even for the server's own role.
                let serverPool = try TestDatabase.makePool(url: TestDatabase.serverURL(url))
                await #expect(throws: PostgresError.self) {
                    try await serverPool.withConnection { try await $0.query("DELETE FROM custody_events") }
                }
                await serverPool.close()
            }
        }
    }

    @Test func anUploadCutOffHalfWayKeepsNothingAndCanBeRetried() async throws {
        try await TestDatabase.withFresh { pool, url in
            _ = try await EvidenceWorld.make(pool)
            let directory = FileManager.default.temporaryDirectory.path + "/sightline-evidence-" + UUID().uuidString
            try await withApp(pool: pool, url: url, evidence: EvidenceSettings(directory: directory), testing: .live) { client, keys in
                let request = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident()).decode(
                    RequestBody.self)
                let task = try #require(request.tasks?.first { $0.holder_org_id == TestKeys.westminster.text })
                _ = try await client.send(
                    .post, "/v1/evidence-tasks/" + task.id + "/transitions", keys(.operator), #"{"action": "acknowledge"}"#, ifMatch: "\"1\"")
                let content = Data(repeating: 0x5A, count: 4 << 20)
                let item = try await client.send(.post, "/v1/evidence-tasks/" + task.id + "/items", keys(.operator), Self.item(content)).decode(
                    ItemBody.self)
                let port = try #require(client.port)

                // Send the headers and half the body over a raw socket, then hang up.
                try RawHTTP.sendAndHangUp(
                    port: port,
                    head:
                        "PUT /v1/evidence-items/\(item.id)/content HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(keys.token(.operator))\r\n"
                        + "Sightline-Person: WCC-0097 Pat Holder\r\nContent-Type: application/octet-stream\r\nContent-Length: \(content.count)\r\n\r\n",
                    body: content.prefix(content.count / 2)
                )
                // The server notices, deletes what it staged and keeps the item uploadable.
                var staged = ["?"]
                for _ in 0..<50 where !staged.isEmpty {
                    try await Task.sleep(for: .milliseconds(100))
                    staged = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/incoming")) ?? []
                }
                #expect(staged.isEmpty)
                #expect(try await client.send(.get, "/v1/evidence-items/" + item.id, keys(.operator)).decode(ItemBody.self).status == "registered")
                var headers = keys(.operator)
                headers[.contentType] = "application/octet-stream"
                let retried = try await client.execute(
                    uri: "/v1/evidence-items/" + item.id + "/content", method: .put, headers: headers, body: ByteBuffer(bytes: content))
                #expect(retried.status == .ok)
            }
        }
    }

    @Test func theJobsRaiseEachAlertOnceAcrossInstancesAsTheClockMovesAndPurgeCollectedContent() async throws {
        try await TestDatabase.withFresh(maxConnections: 8) { pool, url in
            _ = try await EvidenceWorld.make(pool)
            let directory = FileManager.default.temporaryDirectory.path + "/sightline-evidence-" + UUID().uuidString
            let settings = EvidenceSettings(directory: directory)
            let clock = ManualClock()
            try await withApp(pool: pool, url: url, evidence: settings, clock: clock) { client, keys in
                // The footage of 30½ days ago is overwritten (31 days' retention) in 12 hours; urgent: acknowledge within an hour.
                let request = try await client.send(
                    .post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident(hoursAgo: 30 * 24 + 11, priority: "urgent")
                ).decode(RequestBody.self)
                let tasks = try #require(request.tasks)
                #expect(tasks.count == 3 && tasks.allSatisfy { !$0.at_risk })
                // Three workers, each running the alert job off the same moved clock.
                let registry = PrometheusCollectorRegistry()
                let metrics = JobMetrics(registry: registry)
                let workers = Jobs.runners(
                    (0..<3).map { _ in EvidenceAlertsJob(Database(pool: pool, clock: clock)) }, clock: clock, metrics: metrics,
                    logger: TestDatabase.logger
                )
                func runAll() async throws {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for worker in workers { group.addTask { try await worker.runOnce() } }
                        try await group.waitForAll()
                    }
                }
                func events(_ type: String) async throws -> Int { try await count("events WHERE type = '\(type)'", pool) }

                try await runAll()  // within 24 h of overwrite: one at_risk each
                try await runAll()
                #expect(try await events("evidence_task.at_risk") == 3)
                let atRisk = try await client.send(.get, "/v1/evidence-tasks", keys(.operator)).decode(TaskPage.self).items[0]
                #expect(atRisk.at_risk && atRisk.version == 2)
                // Two hours later the acknowledgement deadline has passed; ten more and overwrite is two hours off.
                clock.advance(by: .seconds(2 * 3600))
                try await runAll()
                #expect(try await events("evidence_task.sla_breached") == 3)
                clock.advance(by: .seconds(8.5 * 3600))
                try await runAll()
                clock.advance(by: .seconds(0.1 * 3600))
                try await runAll()
                #expect(try await events("evidence_task.at_risk") == 6)
                #expect(try await events("evidence_task.sla_breached") == 3)
                // An acknowledged task is no longer at risk of being forgotten, but its export deadline still counts.
                let task = try #require(tasks.first { $0.holder_org_id == TestKeys.westminster.text })
                let path = "/v1/evidence-tasks/" + task.id + "/transitions"
                let current = try await client.send(.get, "/v1/evidence-tasks/" + task.id, keys(.operator)).decode(TaskBody.self)
                _ = try await client.send(.post, path, keys(.operator), #"{"action": "acknowledge"}"#, ifMatch: "\"\(current.version)\"")
                // A day after the acknowledgement deadline the two pending tasks escalate to level 2; Westminster's
                // export deadline has passed too (level 1).
                clock.advance(by: .seconds(14.9 * 3600))
                try await runAll()
                #expect(try await events("evidence_task.sla_breached") == 6)
                // Each worker's runs are counted, and the time of the last success is the moved clock's.
                let exposition = registry.emitToString()
                #expect(exposition.contains(#"sightline_job_runs_total{job="evidence-alerts"} 18"#), "\(exposition)")
                #expect(exposition.contains(#"sightline_job_failures_total{job="evidence-alerts"} 0"#))
                let lastSuccess = exposition.split(separator: "\n").first {
                    $0.hasPrefix(#"sightline_job_last_success_timestamp_seconds{job="evidence-alerts"}"#)
                }
                let seconds = try #require(lastSuccess.flatMap { Double($0.split(separator: " ").last ?? "") })
                #expect(abs(seconds - clock.now().timeIntervalSince1970) < 0.001)

                // Upload, export and collect; 30 days after collection the content goes and the trail stays.
                let content = Data("the footage".utf8)
                let item = try await client.send(.post, "/v1/evidence-tasks/" + task.id + "/items", keys(.operator), Self.item(content)).decode(
                    ItemBody.self)
                var headers = keys(.operator)
                headers[.contentType] = "application/octet-stream"
                _ = try await client.execute(
                    uri: "/v1/evidence-items/" + item.id + "/content", method: .put, headers: headers, body: ByteBuffer(bytes: content))
                var version = try await client.send(.get, "/v1/evidence-tasks/" + task.id, keys(.operator)).decode(TaskBody.self).version
                version = try await client.send(.post, path, keys(.operator), #"{"action": "export"}"#, ifMatch: "\"\(version)\"").decode(
                    TaskBody.self
                ).version
                _ = try await client.send(.post, path, keys(.requester, of: TestKeys.mps), #"{"action": "collect"}"#, ifMatch: "\"\(version)\"")
                let purge = JobRunner(
                    EvidencePurgeJob(Database(pool: pool, clock: clock), settings: settings), clock: clock, metrics: metrics,
                    logger: TestDatabase.logger)
                func status() async throws -> String {
                    try await client.send(.get, "/v1/evidence-items/" + item.id, keys(.operator)).decode(ItemBody.self).status
                }
                clock.advance(by: .seconds(29 * 86_400))
                try await purge.runOnce()
                #expect(try await status() == "collected")
                clock.advance(by: .seconds(2 * 86_400))
                try await purge.runOnce()
                #expect(try await status() == "purged")
                #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/items").isEmpty)
                let purged = try await client.send(.get, "/v1/evidence-items/" + item.id, keys(.operator)).decode(ItemBody.self)
                #expect(purged.sha256.count == 64)
                #expect(try await client.send(.get, "/v1/evidence-items/" + item.id + "/content", keys(.operator)).status == .conflict)
                let custody = try await client.send(.get, "/v1/evidence-items/" + item.id + "/custody", keys(.operator)).decode(CustodyPage.self)
                #expect(custody.items.map(\.event) == ["exported", "uploaded", "collected", "purged"])
            }
        }
    }
}
