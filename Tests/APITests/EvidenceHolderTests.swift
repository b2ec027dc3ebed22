import API
import Crypto
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import LibPQ
import Metrics
import Prometheus
import Storage
import TestSupport
import Testing

/// A task as a holder reads it: the brief, the cameras with where the incident lies, the hold and escalation.
struct HolderTask: Decodable {
    struct Brief: Decodable {
        struct Contact: Decodable {
            let name: String
            let role: String?
            let email: String?
            let phone: String?
        }
        let crime_reference: String
        let offence: String
        let priority: String
        let legal_basis: String
        let authorised_by: String
        let location: [String: Double]
        let radius_m: Int
        let window_from: String
        let window_to: String
        let notes: String?
        let requester_contact: Contact?
    }
    struct Camera: Decodable {
        let camera_id: String
        let external_ref: String?
        let kind: String
        let distance_m: Int
        let bearing_deg: Double
        let incident_in_view: Bool?
    }
    let id: String
    let reference: String
    let holder_org_id: String
    let status: String
    let at_risk: Bool
    let escalation_level: Int
    let hold_until: String?
    let hold_released_at: String?
    let hold_expired: Bool
    let brief: Brief
    let cameras: [Camera]
    let allowed_actions: [String]
    let version: Int
}

struct HolderTaskPage: Decodable {
    let items: [HolderTask]
}

/// Evidence as holders work it (issue 14): the brief on every task, holds that are extended, warned of, expire and
/// are released, and breaches that escalate every day, all by moving the clock.
@Suite("API: evidence as holders work it")
struct EvidenceHolderTests {
    /// The alerts job, as a worker runs it, off `clock`.
    static func alerts(_ pool: PostgresPool, _ clock: ManualClock) -> JobRunner {
        Jobs.runners(
            [EvidenceAlertsJob(Database(pool: pool, clock: clock))], clock: clock, metrics: JobMetrics(registry: PrometheusCollectorRegistry()),
            logger: TestDatabase.logger
        )[0]
    }

    static func events(_ type: String, _ pool: PostgresPool) async throws -> [[String: Any]] {
        try await pool.withConnection { connection in
            try await connection.query("SELECT payload::text FROM events WHERE type = $1 ORDER BY position", type).map {
                try JSONSerialization.jsonObject(with: Data(try $0.decode(0, as: String.self).utf8)) as? [String: Any] ?? [:]
            }
        }
    }

    @Test func theOperatorReadsEverythingTheRequestSaysAndWhereTheIncidentLiesFromEachCamera() async throws {
        try await TestDatabase.withFresh { pool, url in
            let world = try await EvidenceWorld.make(pool)
            // A Westminster camera 33 m north of the incident, looking south at it.
            try await pool.withConnection { connection in
                try await connection.query(
                    "UPDATE cameras SET external_ref = 'WCC-0451', heading_deg = 180, field_of_view_deg = 60 WHERE id = $1", world.w2)
            }
            try await withApp(pool: pool, url: url) { client, keys in
                let body = incident(
                    priority: "urgent", extra: #", "notes": "Suspect in a red jacket, ran towards Whitehall.", "legal_basis": "PACE 1984 s.19""#)
                let created = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), body)
                #expect(created.status == .created, "\(created.text)")
                let reference = try created.decode(RequestBody.self).reference

                let queue = try await client.send(.get, "/v1/evidence-tasks", keys(.operator)).decode(HolderTaskPage.self)
                #expect(queue.items.count == 1 && queue.items.allSatisfy { $0.holder_org_id == TestKeys.westminster.text })
                let task = try #require(queue.items.first)
                #expect(task.reference == reference)
                let brief = task.brief
                #expect(brief.crime_reference == "CRIS 1234567/26" && brief.offence == "robbery" && brief.priority == "urgent")
                #expect(brief.legal_basis == "PACE 1984 s.19" && brief.authorised_by == "DS Amy Clarke" && brief.radius_m == 100)
                #expect(brief.location["lat"] == Places.westminster.lat && brief.location["lon"] == Places.westminster.lon)
                #expect(!brief.window_from.isEmpty && !brief.window_to.isEmpty && brief.notes?.contains("red jacket") == true)
                #expect(brief.requester_contact?.name == "DC Sam Patel" && brief.requester_contact?.email == "sam.patel@met.police.uk")
                #expect(brief.requester_contact?.phone == "020 7230 1212" && brief.requester_contact?.role == "DC")
                let north = try #require(task.cameras.first { $0.camera_id == world.w2.text })
                #expect(north.external_ref == "WCC-0451" && north.kind == "fixed" && north.distance_m == 33)
                #expect(north.bearing_deg == 180 && north.incident_in_view == true)
                // A camera with no heading recorded: in view cannot be said.
                #expect(task.cameras.first { $0.camera_id == world.w1.text }?.incident_in_view == nil)
                // The same brief on get; TfL's operator sees TfL's task only, and the operator only Westminster's.
                let got = try await client.send(.get, "/v1/evidence-tasks/" + task.id, keys(.operator)).decode(HolderTask.self)
                #expect(got.brief.offence == "robbery" && got.cameras.count == task.cameras.count)
                let tflTasks = try await client.send(.get, "/v1/evidence-tasks", keys.covert(.operator, of: TestKeys.tfl)).decode(HolderTaskPage.self)
                #expect(tflTasks.items.count == 1 && tflTasks.items[0].holder_org_id == TestKeys.tfl.text)
                #expect(try await client.send(.get, "/v1/evidence-tasks/" + tflTasks.items[0].id, keys(.operator)).status == .notFound)

                // What each may do now: the operator never cancels, and exports only once an item is registered.
                #expect(task.allowed_actions == ["acknowledge", "reject", "record_no_footage"])
                let path = "/v1/evidence-tasks/" + task.id + "/transitions"
                let acknowledged = try await client.send(.post, path, keys(.operator), #"{"action": "acknowledge"}"#, ifMatch: "\"1\"")
                #expect(try acknowledged.decode(HolderTask.self).allowed_actions == ["reject", "record_no_footage"])
                let early = try await client.send(.post, path, keys(.operator), #"{"action": "export"}"#, ifMatch: "\"2\"")
                #expect(early.status == .conflict)
                #expect(try early.decode(ProblemBody.self).allowed_actions == ["reject", "record_no_footage"], "\(early.text)")
                let asRequester = try await client.send(.get, "/v1/evidence-tasks/" + task.id, keys(.requester, of: TestKeys.mps))
                #expect(try asRequester.decode(HolderTask.self).allowed_actions == ["cancel", "extend_hold"])
                let item = try await client.send(
                    .post, "/v1/evidence-tasks/" + task.id + "/items", keys(.operator), EvidenceTests.item(Data("x".utf8)))
                #expect(item.status == .created)
                let ready = try await client.send(.get, "/v1/evidence-tasks/" + task.id, keys(.operator)).decode(HolderTask.self)
                #expect(ready.allowed_actions == ["reject", "record_no_footage", "export"])
            }
        }
    }

    @Test func aHoldIsExtendedWarnedOfExpiresAndIsReleasedAsTheClockMoves() async throws {
        try await TestDatabase.withFresh { pool, url in
            _ = try await EvidenceWorld.make(pool)
            let clock = ManualClock()
            try await withApp(pool: pool, url: url, clock: clock) { client, keys in
                let alerts = Self.alerts(pool, clock)
                let requester = keys(.requester, of: TestKeys.mps)
                let request = try await client.send(.post, "/v1/evidence-requests", requester, incident(now: clock.now())).decode(RequestBody.self)
                let task = try #require(request.tasks?.first { $0.holder_org_id == TestKeys.westminster.text })
                let path = "/v1/evidence-tasks/" + task.id + "/transitions"
                let hold = clock.now().addingTimeInterval(3 * 86_400)
                let acknowledged = try await client.send(
                    .post, path, keys(.operator), #"{"action": "acknowledge", "hold_until": "\#(rfc3339(hold))"}"#, ifMatch: "\"1\"")
                #expect(try acknowledged.decode(HolderTask.self).hold_until == rfc3339(hold))

                // The requester extends it: not past 90 days after the window, not by the holder, not to an earlier time.
                let window = try #require(ISO8601DateFormatter().date(from: try acknowledged.decode(HolderTask.self).brief.window_to))
                func extend(_ until: Date, _ headers: HTTPFields, version: Int) async throws -> TestResponse {
                    try await client.send(
                        .post, path, headers, #"{"action": "extend_hold", "hold_until": "\#(rfc3339(until))"}"#, ifMatch: "\"\(version)\"")
                }
                let tooFar = try await extend(window.addingTimeInterval(90 * 86_400 + 60), requester, version: 2)
                #expect(tooFar.status == .badRequest)
                #expect(try tooFar.decode(ProblemBody.self).errors?.map(\.pointer) == ["/hold_until"])
                #expect(try await extend(hold.addingTimeInterval(86_400), keys(.operator), version: 2).status == .forbidden)
                #expect(try await extend(hold.addingTimeInterval(-60), requester, version: 2).status == .badRequest)
                let extended = try await extend(hold.addingTimeInterval(86_400), requester, version: 2)
                #expect(extended.status == .ok, "\(extended.text)")
                let newHold = hold.addingTimeInterval(86_400)
                #expect(try extended.decode(HolderTask.self).hold_until == rfc3339(newHold))
                #expect(try await Self.events("evidence_task.hold_extended", pool).count == 1)

                // 48 hours before the hold ends the holder and requester are warned, once.
                clock.set(newHold.addingTimeInterval(-48 * 3600 - 60))
                try await alerts.runOnce()
                #expect(try await Self.events("evidence_task.hold_expiring", pool).isEmpty)
                clock.advance(by: .seconds(120))
                try await alerts.runOnce()
                try await alerts.runOnce()
                let warnings = try await Self.events("evidence_task.hold_expiring", pool)
                #expect(warnings.count == 1 && warnings[0]["hold_until"] as? String == rfc3339(newHold))
                // When it ends with the footage not collected, the task says so and the end is raised, once.
                clock.set(newHold.addingTimeInterval(1))
                try await alerts.runOnce()
                try await alerts.runOnce()
                #expect(try await Self.events("evidence_task.hold_expired", pool).count == 1)
                var current = try await client.send(.get, "/v1/evidence-tasks/" + task.id, requester).decode(HolderTask.self)
                #expect(current.hold_expired && current.status == "acknowledged")
                // Extended again, it is in force and its warnings fall due anew.
                let renewed = clock.now().addingTimeInterval(5 * 86_400)
                let again = try await extend(renewed, requester, version: current.version)
                #expect(try again.decode(HolderTask.self).hold_expired == false)
                clock.set(renewed.addingTimeInterval(-3600))
                try await alerts.runOnce()
                #expect(try await Self.events("evidence_task.hold_expiring", pool).count == 2)

                // Collected, the hold is released and cannot be extended: a conflict naming what the caller may do.
                current = try await client.send(.get, "/v1/evidence-tasks/" + task.id, keys(.operator)).decode(HolderTask.self)
                _ = try await client.send(.post, "/v1/evidence-tasks/" + task.id + "/items", keys(.operator), EvidenceTests.item(Data("x".utf8)))
                let exported = try await client.send(.post, path, keys(.operator), #"{"action": "export"}"#, ifMatch: "\"\(current.version)\"")
                #expect(exported.status == .ok, "\(exported.text)")
                let collected = try await client.send(
                    .post, path, requester, #"{"action": "collect"}"#, ifMatch: "\"\(try exported.decode(HolderTask.self).version)\"")
                let done = try collected.decode(HolderTask.self)
                #expect(done.status == "collected" && done.hold_released_at != nil && !done.hold_expired)
                let late = try await extend(renewed.addingTimeInterval(86_400), requester, version: done.version)
                #expect(late.status == .conflict)
                #expect(try late.decode(ProblemBody.self).allowed_actions == [])
                clock.set(renewed.addingTimeInterval(1))
                try await alerts.runOnce()
                #expect(try await Self.events("evidence_task.hold_expired", pool).count == 1)
            }
        }
    }

    @Test func aBreachEscalatesEveryDayAndTheQueuePutsAtRiskThenEscalatedThenNearestFirst() async throws {
        try await TestDatabase.withFresh { pool, url in
            _ = try await EvidenceWorld.make(pool)
            let clock = ManualClock()
            try await withApp(pool: pool, url: url, clock: clock) { client, keys in
                let alerts = Self.alerts(pool, clock)
                let requester = keys(.requester, of: TestKeys.mps)
                func request(hoursAgo: Double = 72) async throws -> String {
                    let created = try await client.send(.post, "/v1/evidence-requests", requester, incident(hoursAgo: hoursAgo, now: clock.now()))
                    #expect(created.status == .created, "\(created.text)")
                    return try #require(try created.decode(RequestBody.self).tasks?.first { $0.holder_org_id == TestKeys.westminster.text }).id
                }
                // A: standard, to be acknowledged within 24 hours. 25 hours on it is breached (level 1), 48½ hours on level 2.
                let a = try await request()
                clock.advance(by: .seconds(25 * 3600))
                try await alerts.runOnce()
                try await alerts.runOnce()
                let b = try await request()
                clock.advance(by: .seconds(23.5 * 3600))
                try await alerts.runOnce()
                let breaches = try await Self.events("evidence_task.sla_breached", pool).filter { $0["id"] as? String == a }
                #expect(breaches.map { $0["escalation_level"] as? Int } == [1, 2])
                #expect(breaches.map { $0["escalate_to_holder"] as? [String] } == [["operator"], ["operator", "partner_admin"]])
                #expect(breaches[1]["escalate_to_requester"] as? [String] == ["requester", "partner_admin"])
                // The holder's partner admin and the requester's hear of it (both organisations are the audience).
                let told = try await client.events(keys(.partnerAdmin)) { page in
                    page.items.filter { $0.type == "evidence_task.sla_breached" && $0.subject == "evidence_task/" + a }.count == 2
                }
                #expect(told.items.filter { $0.type == "evidence_task.sla_breached" && $0.subject == "evidence_task/" + a }.count == 2)
                // C: later deadline than B; D: its footage is overwritten before it must be acknowledged (at risk).
                let c = try await request()
                let d = try await request(hoursAgo: 22.5)
                let queue = try await client.send(.get, "/v1/evidence-tasks", keys(.operator)).decode(HolderTaskPage.self)
                #expect(queue.items.map(\.id) == [d, a, b, c])
                #expect(queue.items.map(\.escalation_level) == [0, 2, 0, 0] && queue.items[0].at_risk)
                // The cursor keeps the order.
                let first = try await client.send(.get, "/v1/evidence-tasks?limit=2", keys(.operator)).decode(TaskPage.self)
                let rest = try await client.send(
                    .get, "/v1/evidence-tasks?limit=2&cursor=" + (first.next_cursor ?? ""), keys(.operator)
                ).decode(TaskPage.self)
                #expect((first.items + rest.items).map(\.id) == [d, a, b, c])
                // Acknowledged, A's escalation ends; its export deadline starts the count again.
                let current = try await client.send(.get, "/v1/evidence-tasks/" + a, keys(.operator)).decode(HolderTask.self)
                let moved = try await client.send(
                    .post, "/v1/evidence-tasks/" + a + "/transitions", keys(.operator), #"{"action": "acknowledge"}"#,
                    ifMatch: "\"\(current.version)\"")
                #expect(try moved.decode(HolderTask.self).escalation_level == 0)
                try await alerts.runOnce()
                #expect(try await Self.events("evidence_task.sla_breached", pool).filter { $0["id"] as? String == a }.count == 2)
            }
        }
    }

    /// Bad input the holder's side must refuse, naming the field, writing nothing.
    @Test(arguments: [
        ("an urgent request without a contact", #""priority": "urgent""#, "/requester_contact"),
        ("a contact email that is not one", #""requester_contact": {"name": "DC A", "email": "not an email"}"#, "/requester_contact/email"),
        ("a contact with no way to reach them", #""requester_contact": {"name": "DC A"}"#, "/requester_contact"),
    ])
    func aRequestsContactIsChecked(what: String, field: String, pointer: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            _ = try await EvidenceWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                let now = Date().addingTimeInterval(-3600)
                let body =
                    #"{"crime_reference": "CRIS 1", "offence": "theft", "authorised_by": "DS A", "location": {"lat": 51.50095, "lon": -0.12655}, "#
                    + #""window_from": "\#(rfc3339(now.addingTimeInterval(-3600)))", "window_to": "\#(rfc3339(now))", "#
                    + (field.contains("priority") ? field : #""priority": "standard", "# + field) + "}"
                let response = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), body)
                #expect(response.status == .badRequest, "\(what): \(response.text)")
                #expect(try response.decode(ProblemBody.self).errors?.map(\.pointer) == [pointer], "\(what): \(response.text)")
                #expect(try await count("evidence_requests", pool) == 0)
            }
        }
    }

    @Test(arguments: [
        ("Paris", 48.8566, 2.3522, false), ("Parliament Square with lat and lon swapped", -0.12655, 51.50095, false),
        ("Reading", 51.45462, -0.97813, false), ("Watford, 4 km beyond the boundary", 51.6565, -0.3903, true),
        ("Parliament Square", 51.50095, -0.12655, true),
    ])
    func aRequestOutsideTheAreaSightlineServesIsRefusedAtLocation(place: String, lat: Double, lon: Double, served: Bool) async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let body = incident().replacingOccurrences(
                    of: #""lat": \#(Places.westminster.lat), "lon": \#(Places.westminster.lon)"#, with: #""lat": \#(lat), "lon": \#(lon)"#)
                let response = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), body)
                if served {
                    #expect(response.status == .created, "\(place): \(response.text)")
                } else {
                    #expect(response.status == .badRequest, "\(place)")
                    #expect(try response.decode(ProblemBody.self).errors?.map(\.pointer) == ["/location"], "\(place): \(response.text)")
                    #expect(try await count("evidence_requests", pool) == 0)
                }
            }
        }
    }

    @Test func anItemsPeriodMustOverlapTheWindowItsOffsetBeWithinADayAndAnUnlistedFormatIsFlagged() async throws {
        try await TestDatabase.withFresh { pool, url in
            let world = try await EvidenceWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                let request = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident()).decode(
                    RequestBody.self)
                let task = try #require(request.tasks?.first { $0.holder_org_id == TestKeys.westminster.text })
                let acknowledged = try await client.send(
                    .post, "/v1/evidence-tasks/" + task.id + "/transitions", keys(.operator), #"{"action": "acknowledge"}"#, ifMatch: "\"1\"")
                #expect(acknowledged.status == .ok)
                let to = Date().addingTimeInterval(-72 * 3600)
                func item(from: Date, to: Date, offset: Int?) -> String {
                    #"{"exhibit_ref": "AC/1", "file_name": "cam1.mp4", "format": "mp4", "size_bytes": 1, "sha256": "\#(String(repeating: "a", count: 64))", "#
                        + #""recorded_from": "\#(rfc3339(from))", "recorded_to": "\#(rfc3339(to))""#
                        + (offset.map { #", "clock_offset_s": \#($0)"# } ?? "")
                        + "}"
                }
                let path = "/v1/evidence-tasks/" + task.id + "/items"
                let january = try await client.send(
                    .post, path, keys(.operator),
                    item(from: Date(timeIntervalSince1970: 1_735_725_600), to: Date(timeIntervalSince1970: 1_735_729_200), offset: nil))
                #expect(january.status == .badRequest)
                #expect(try january.decode(ProblemBody.self).errors?.map(\.pointer) == ["/recorded_from"])
                let offset = try await client.send(.post, path, keys(.operator), item(from: to.addingTimeInterval(-600), to: to, offset: 86_401))
                #expect(offset.status == .badRequest)
                #expect(try offset.decode(ProblemBody.self).errors?.map(\.pointer) == ["/clock_offset_s"])
                // Recorded an hour after the window by a clock two hours fast: in true time it overlaps.
                let fast = try await client.send(
                    .post, path, keys(.operator), item(from: to.addingTimeInterval(3600), to: to.addingTimeInterval(7200), offset: 7200))
                #expect(fast.status == .created, "\(fast.text)")
                let json = try #require(try JSONSerialization.jsonObject(with: Data(fast.text.utf8)) as? [String: Any])
                #expect(json["clock_offset_s"] as? Int == 7200 && json["recorded_from_corrected"] as? String == rfc3339(to.addingTimeInterval(-3600)))
                // Not measured: absent, not 0, and nothing corrected.
                let unmeasured = try await client.send(
                    .post, path, keys(.operator),
                    item(from: to.addingTimeInterval(-600), to: to, offset: nil).replacingOccurrences(of: "AC/1", with: "AC/2"))
                let plain = try #require(try JSONSerialization.jsonObject(with: Data(unmeasured.text.utf8)) as? [String: Any])
                #expect(plain["clock_offset_s"] == nil && plain["recorded_from_corrected"] == nil && plain["recorded_from"] != nil)
                // The room lists no export format: nothing to flag.
                #expect(plain["format_listed"] == nil)
                #expect(try await count("evidence_items", pool) == 2)
                // Once it lists mp4 and avi, an mp4 passes and an mkv is flagged (accepted: the holder knows the export).
                try await pool.withConnection { connection in
                    try await connection.query("UPDATE control_rooms SET export_formats = '{MP4,avi}' WHERE id = $1", world.westminsterRoom)
                }
                func registered(_ exhibit: String, format: String) async throws -> Any? {
                    let body = item(from: to.addingTimeInterval(-600), to: to, offset: nil).replacingOccurrences(of: "AC/1", with: exhibit)
                        .replacingOccurrences(of: #""format": "mp4""#, with: #""format": "\#(format)""#)
                    let response = try await client.send(.post, path, keys(.operator), body)
                    #expect(response.status == .created, "\(response.text)")
                    return (try JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])?["format_listed"]
                }
                #expect(try await registered("AC/3", format: "mp4") as? Bool == true)
                #expect(try await registered("AC/4", format: "mkv") as? Bool == false)
            }
        }
    }

    @Test func everyCustodyEventNamesThePersonAndAnActionThatNamesNoOneWritesNothing() async throws {
        try await TestDatabase.withFresh { pool, url in
            _ = try await EvidenceWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                let operatorKey = keys(.operator)
                let requester = keys(.requester, of: TestKeys.mps)
                func anonymous(_ headers: HTTPFields) -> HTTPFields {
                    var headers = headers
                    headers[TestKeys.person] = nil
                    return headers
                }
                func badlyNamed(_ headers: HTTPFields) -> HTTPFields {
                    var headers = headers
                    headers[TestKeys.person] = "Sam"
                    return headers
                }
                /// `attempt` without a person and with one badly named is a 400 naming the header, writing no custody.
                func refusedWithoutAPerson(_ what: String, _ attempt: (HTTPFields) async throws -> TestResponse, as headers: HTTPFields) async throws
                {
                    let before = try await count("custody_events", pool)
                    for refused in [anonymous(headers), badlyNamed(headers)] {
                        let response = try await attempt(refused)
                        #expect(response.status == .badRequest, "\(what): \(response.text)")
                        #expect(try response.decode(ProblemBody.self).errors?.map(\.pointer) == ["#/parameters/Sightline-Person"], "\(what)")
                    }
                    #expect(try await count("custody_events", pool) == before, "\(what)")
                }
                let request = try await client.send(.post, "/v1/evidence-requests", requester, incident()).decode(RequestBody.self)
                let task = try #require(request.tasks?.first { $0.holder_org_id == TestKeys.westminster.text })
                let path = "/v1/evidence-tasks/" + task.id + "/transitions"
                _ = try await client.send(.post, path, operatorKey, #"{"action": "acknowledge"}"#, ifMatch: "\"1\"")

                let content = Data("the footage".utf8)
                let register = { (headers: HTTPFields) in
                    try await client.send(.post, "/v1/evidence-tasks/" + task.id + "/items", headers, EvidenceTests.item(content))
                }
                try await refusedWithoutAPerson("register (exported)", register, as: operatorKey)
                let item = try await register(operatorKey).decode(ItemBody.self)
                let upload = { (headers: HTTPFields) in
                    var headers = headers
                    headers[.contentType] = "application/octet-stream"
                    return try await client.execute(
                        uri: "/v1/evidence-items/" + item.id + "/content", method: .put, headers: headers, body: ByteBuffer(bytes: content))
                }
                try await refusedWithoutAPerson("upload", upload, as: operatorKey)
                #expect(try await upload(operatorKey).status == .ok)
                let exported = try await client.send(.post, path, operatorKey, #"{"action": "export"}"#, ifMatch: "\"2\"")
                #expect(exported.status == .ok, "export writes no custody and names no one: \(exported.text)")
                let download = { (headers: HTTPFields) in try await client.send(.get, "/v1/evidence-items/" + item.id + "/content", headers) }
                try await refusedWithoutAPerson("download", download, as: requester)
                #expect(try await download(requester).status == .ok)
                let handOver = { (headers: HTTPFields) in
                    try await client.send(.post, "/v1/evidence-items/" + item.id + "/handover", headers, #"{"received_by": "PC 123 Smith"}"#)
                }
                try await refusedWithoutAPerson("hand-over", handOver, as: operatorKey)
                #expect(try await handOver(operatorKey).status == .created)
                let collect = { (headers: HTTPFields) in try await client.send(.post, path, headers, #"{"action": "collect"}"#, ifMatch: "\"3\"") }
                try await refusedWithoutAPerson("collect", collect, as: requester)
                #expect(try await collect(requester).status == .ok)

                // The trail names the person of every event, beside the key.
                let trail = try await client.send(.get, "/v1/evidence-items/" + item.id + "/custody", requester).text
                let events = try #require(
                    (try JSONSerialization.jsonObject(with: Data(trail.utf8)) as? [String: Any])?["items"] as? [[String: Any]])
                let named = events.map { (($0["event"] as? String) ?? "", (($0["person"] as? [String: String])?["number"]) ?? "") }
                #expect(named.map(\.0) == ["exported", "uploaded", "downloaded", "handed_over", "collected"], "\(trail)")
                #expect(named.map(\.1) == ["TEST-OPERATOR", "TEST-OPERATOR", "TEST-REQUESTER", "TEST-OPERATOR", "TEST-REQUESTER"], "\(trail)")
                #expect(events.allSatisfy { $0["key_prefix"] != nil })
            }
        }
    }

    @Test func anUnquotedIfMatchIsA400SayingHowToQuoteIt() async throws {
        try await TestDatabase.withFresh { pool, url in
            _ = try await EvidenceWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                let request = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident()).decode(
                    RequestBody.self)
                let task = try #require(request.tasks?.first { $0.holder_org_id == TestKeys.westminster.text })
                let path = "/v1/evidence-tasks/" + task.id + "/transitions"
                let unquoted = try await client.send(.post, path, keys(.operator), #"{"action": "acknowledge"}"#, ifMatch: "1")
                #expect(unquoted.status == .badRequest)
                let problem = try unquoted.decode(ProblemBody.self)
                #expect(problem.errors?.map(\.pointer) == ["#/parameters/If-Match"] && problem.detail?.contains(#"If-Match: "3""#) == true)
                #expect(try await client.send(.post, path, keys(.operator), #"{"action": "acknowledge"}"#, ifMatch: "\"1\"").status == .ok)
            }
        }
    }

    @Test func aBodyExpecting100ContinueGetsItWhenReadAndARequestRefusedOnItsHeadersIsAnsweredAtOnce() async throws {
        try await TestDatabase.withFresh { pool, url in
            _ = try await EvidenceWorld.make(pool)
            try await withApp(pool: pool, url: url, testing: .live) { client, keys in
                let request = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident()).decode(
                    RequestBody.self)
                let task = try #require(request.tasks?.first { $0.holder_org_id == TestKeys.westminster.text })
                _ = try await client.send(
                    .post, "/v1/evidence-tasks/" + task.id + "/transitions", keys(.operator), #"{"action": "acknowledge"}"#, ifMatch: "\"1\"")
                let content = Data(repeating: 0x42, count: 300_000)
                let item = try await client.send(.post, "/v1/evidence-tasks/" + task.id + "/items", keys(.operator), EvidenceTests.item(content))
                    .decode(ItemBody.self)
                let port = try #require(client.port)
                func head(length: Int, authorised: Bool = true) -> String {
                    "PUT /v1/evidence-items/\(item.id)/content HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + (authorised ? "Authorization: Bearer \(keys.token(.operator))\r\n" : "")
                        + "Sightline-Person: WCC-0097 Pat Holder\r\nContent-Type: application/octet-stream\r\nContent-Length: \(length)\r\n"
                        + "Expect: 100-continue\r\n\r\n"
                }
                func statusLine(_ text: String) -> String { text.components(separatedBy: "\r\n")[0] }

                // Refused on its headers (no key; a length other than the one registered): the final answer comes at
                // once, with no 100 before it, and the connection closes, as the client never sends that body.
                for (what, head, status) in [
                    ("no key", head(length: content.count, authorised: false), "401"), ("wrong length", head(length: 12), "422"),
                ] {
                    let connection = try RawHTTP(port: port)
                    try connection.send(head)
                    let answer = try connection.read { $0.contains("\r\n\r\n") }
                    #expect(statusLine(answer.text).hasPrefix("HTTP/1.1 " + status), "\(what): \(answer.text)")
                    #expect(!answer.text.contains("100 Continue"), "\(what)")
                    #expect(try connection.closedByServer(), "\(what)")
                }
                // A JSON body over the limit: 413 on its declared length.
                let large = try RawHTTP(port: port)
                try large.send(
                    "POST /v1/evidence-requests HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(keys.token(.requester, of: TestKeys.mps))\r\n"
                        + "Content-Type: application/json\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
                #expect(statusLine(try large.read { $0.contains("\r\n\r\n") }.text).hasPrefix("HTTP/1.1 413"))

                // Accepted: 100 Continue, then the body, then the final answer.
                let upload = try RawHTTP(port: port)
                try upload.send(head(length: content.count))
                let interim = try upload.read { $0.contains("\r\n\r\n") }
                #expect(interim.text == "HTTP/1.1 100 Continue\r\n\r\n", "\(interim.text)")
                try upload.send(content)
                let final = try upload.read { $0.contains("\r\n\r\n") && $0.contains("}") }
                #expect(statusLine(final.text) == "HTTP/1.1 200 OK", "\(final.text)")
                #expect(try await client.send(.get, "/v1/evidence-items/" + item.id, keys(.operator)).decode(ItemBody.self).status == "available")
            }
        }
    }

    @Test func aCouncilsEnforcementTeamAsksTfLForFootageUnderThePowerItCites() async throws {
        try await TestDatabase.withFresh { pool, url in
            _ = try await EvidenceWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                let enforcement = keys(.requester)  // Westminster City Council's
                // A council must cite the power it asks under; the police default does not stand for it.
                let uncited = try await client.send(.post, "/v1/evidence-requests", enforcement, incident(offence: "fly-tipping"))
                #expect(uncited.status == .badRequest)
                #expect(try uncited.decode(ProblemBody.self).errors?.map(\.pointer) == ["/legal_basis"])
                let basis = "Anti-social Behaviour, Crime and Policing Act 2014 s.2; DPA 2018 Sch. 2 Pt. 1 para. 2"
                let created = try await client.send(
                    .post, "/v1/evidence-requests", enforcement, incident(offence: "fly-tipping", extra: #", "legal_basis": "\#(basis)""#))
                #expect(created.status == .created, "\(created.text)")
                let request = try created.decode(RequestBody.self)
                let tflTask = try #require(request.tasks?.first { $0.holder_org_id == TestKeys.tfl.text })
                // TfL's operator reads who asks, under what power, and whom to call; and acknowledges.
                let tfl = keys.covert(.operator, of: TestKeys.tfl)
                let task = try await client.send(.get, "/v1/evidence-tasks/" + tflTask.id, tfl).decode(HolderTask.self)
                #expect(
                    task.brief.legal_basis == basis && task.brief.offence == "fly-tipping" && task.brief.requester_contact?.name == "DC Sam Patel")
                let acknowledged = try await client.send(
                    .post, "/v1/evidence-tasks/" + tflTask.id + "/transitions", tfl, #"{"action": "acknowledge"}"#, ifMatch: "\"1\"")
                #expect(acknowledged.status == .ok)
                // The council follows its request like a force does; the MPS does not see it.
                #expect(try await client.send(.get, "/v1/evidence-requests/" + request.id, enforcement).status == .ok)
                #expect(try await client.send(.get, "/v1/evidence-requests/" + request.id, keys(.requester, of: TestKeys.mps)).status == .notFound)
            }
        }
    }

    /// A body at fault is answered naming every field at fault and how to put it right.
    @Test(arguments: [
        (
            "two required fields missing", #"{"priority": "standard", "authorised_by": "DS A", "legal_basis": "x", "#,
            ["/crime_reference", "/offence"], ""
        ),
        (
            "a value outside an enum", #"{"crime_reference": "C", "offence": "o", "priority": "sometimes", "authorised_by": "DS A", "#, ["/priority"],
            "urgent, standard"
        ),
        (
            "a date-time that is not one",
            #"{"crime_reference": "C", "offence": "o", "priority": "standard", "authorised_by": "DS A", "window_from": "yesterday", "#,
            ["/window_from"], "RFC 3339"
        ),
    ])
    func aBodyAtFaultNamesEveryFieldAndWhatItTakes(what: String, start: String, pointers: [String], hint: String) async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let now = Date().addingTimeInterval(-3600)
                var body = start + #""location": {"lat": 51.5, "lon": -0.13}, "window_to": "\#(rfc3339(now))""#
                if !start.contains("window_from") { body += #", "window_from": "\#(rfc3339(now.addingTimeInterval(-600)))""# }
                body += "}"
                let response = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), body)
                #expect(response.status == .badRequest, "\(what): \(response.text)")
                let problem = try response.decode(ProblemBody.self)
                #expect(problem.errors?.map(\.pointer) == pointers, "\(what): \(response.text)")
                #expect(hint.isEmpty || response.text.contains(hint), "\(what): \(response.text)")
            }
        }
    }

    @Test func aBodyThatIsNotStrictJSONIsRefused() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                for body in [
                    #"{"name": "x", "role": "analyst",}"#, #"{"name": "x", "role": "analyst"} trailing"#, #"{'name': 'x'}"#,
                    #"{"name": "x", "role": "analyst", /* c */}"#,
                ] {
                    let response = try await client.send(.post, "/v1/api-keys", keys(.partnerAdmin), body)
                    #expect(response.status == .badRequest, "\(body): \(response.text)")
                    #expect(try response.decode(ProblemBody.self).title == "The request could not be read", "\(body): \(response.text)")
                }
                #expect(try await count("api_keys WHERE name = 'x'", pool) == 0)
            }
        }
    }
}
