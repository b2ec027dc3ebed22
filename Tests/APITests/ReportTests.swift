import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import LibPQ
import Storage
import TestSupport
import Testing

/// 28 March 2027 in London, the day the clocks go forward (23 hours long): what happened to evidence that day, made
/// through the API with the clock moved from event to event.
///
/// - 08:00 BST: the MPS asks urgently for footage at Parliament Square (request A): tasks for Westminster, TfL and
///   Camden; Westminster's camera that keeps one day of footage is already overwritten.
/// - 08:00: the same, by an MPS key with covert access (request X): the same three tasks, and a covert one for the
///   MPS's own covert camera, which no report may count.
/// - 08:30: Westminster acknowledges A (30 minutes); 10:00: TfL acknowledges A and Westminster X (2 hours, late).
/// - 11:00: Westminster exports A (3 hours).
/// - 12:00: a standard request (B); 13:00: Westminster rejects B.
/// - 14:00: a standard request in Croydon that finds no camera (C).
/// - Camden never answers; TfL never answers X or B.
struct ReportDay {
    static let day = Day("2027-03-28")!
    /// 02:30 BST on the 29th: the night's reports are due.
    static let after = at("2027-03-29T01:30:00Z")

    let world: EvidenceWorld
    let references: [String: String]

    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static func make(_ pool: PostgresPool, _ client: any TestClientProtocol, _ keys: TestKeys, _ clock: ManualClock) async throws -> ReportDay {
        let world = try await EvidenceWorld.make(pool)
        let mps = keys(.requester, of: TestKeys.mps)
        let westminster = keys(.operator)
        let tfl = keys(.operator, of: TestKeys.tfl)
        var references: [String: String] = [:]
        func request(_ name: String, _ headers: HTTPFields, _ body: String) async throws -> RequestBody {
            let response = try await client.send(.post, "/v1/evidence-requests", headers, body)
            #expect(response.status == .created, "\(response.text)")
            let request = try response.decode(RequestBody.self)
            references[name] = request.reference
            return request
        }
        func task(_ request: RequestBody, _ holder: UUID) throws -> TaskBody {
            try #require(request.tasks?.first { $0.holder_org_id == holder.text })
        }
        func move(_ task: TaskBody, _ headers: HTTPFields, _ action: String, version: Int) async throws {
            let response = try await client.send(.post, "/v1/evidence-tasks/\(task.id)/transitions", headers, action, ifMatch: "\"\(version)\"")
            #expect(response.status == .ok, "\(response.text)")
        }
        clock.set(at("2027-03-28T07:00:00Z"))
        let a = try await request("A", mps, incident(priority: "urgent", now: clock.now()))
        let x = try await request("X", keys.covert(.requester, of: TestKeys.mps), incident(priority: "urgent", now: clock.now()))
        #expect(x.tasks?.count == 4, "the covert camera's task as well")
        clock.set(at("2027-03-28T07:30:00Z"))
        try await move(try task(a, TestKeys.westminster), westminster, #"{"action": "acknowledge"}"#, version: 1)
        clock.set(at("2027-03-28T09:00:00Z"))
        try await move(try task(a, TestKeys.tfl), tfl, #"{"action": "acknowledge"}"#, version: 1)
        try await move(try task(x, TestKeys.westminster), westminster, #"{"action": "acknowledge"}"#, version: 1)
        clock.set(at("2027-03-28T10:00:00Z"))
        // Footage of the incident's hour, registered at the clock's time.
        let footage = EvidenceTests.item(Data("a".utf8)).replacingOccurrences(
            of: #""recorded_from": "[^"]*", "recorded_to": "[^"]*""#,
            with: #""recorded_from": "2027-03-25T06:00:00Z", "recorded_to": "2027-03-25T07:00:00Z""#, options: .regularExpression)
        let item = try await client.send(.post, "/v1/evidence-tasks/\(try task(a, TestKeys.westminster).id)/items", westminster, footage)
        #expect(item.status == .created, "\(item.text)")
        try await move(try task(a, TestKeys.westminster), westminster, #"{"action": "export"}"#, version: 2)
        clock.set(at("2027-03-28T11:00:00Z"))
        let b = try await request("B", mps, incident(priority: "standard", now: clock.now()))
        clock.set(at("2027-03-28T12:00:00Z"))
        try await move(try task(b, TestKeys.westminster), westminster, #"{"action": "reject", "reason": "insufficient_legal_basis"}"#, version: 1)
        clock.set(at("2027-03-28T13:00:00Z"))
        let croydon = #""location": {"lat": 51.3727, "lon": -0.1099}"#
        let c = try await request(
            "C", mps,
            incident(priority: "standard", now: clock.now()).replacingOccurrences(
                of: #""location": {"lat": \#(Places.westminster.lat), "lon": \#(Places.westminster.lon)}"#, with: croydon))
        #expect(c.status_reason == "no_cameras_found", "\(c)")
        clock.set(after)
        return ReportDay(world: world, references: references)
    }

    /// The job, as a worker runs it, on `clock`.
    static func job(_ pool: PostgresPool, _ clock: ManualClock) -> NightlyReportsJob {
        NightlyReportsJob(Database(pool: pool, clock: clock), schedule: .london, sla: .standard)
    }
}

/// One report as the API gives it.
func fetchReport(_ client: any TestClientProtocol, _ headers: HTTPFields, kind: ReportKind, date: Day = ReportDay.day) async throws -> Report {
    let list = try await client.send(.get, "/v1/reports?kind=\(kind.rawValue)&from=\(date)&to=\(date)", headers)
    #expect(list.status == .ok, "\(list.text)")
    let items = try list.decode(ItemList<ReportListItem>.self).items
    let id = try #require(items.first?.id, "no \(kind) report of \(date)")
    let response = try await client.send(.get, "/v1/reports/" + id, headers)
    #expect(response.status == .ok && response.headers[.contentType]?.hasPrefix("application/json") == true, "\(response.text)")
    return try Report.decoder().decode(Report.self, from: Data(buffer: response.body))
}

struct ReportListItem: Decodable {
    let id: String
    let kind: String
    let report_date: String
    let organisation_id: String?
}

/// The figures of a day computed afresh from the tasks' rows: days by casting each time to London's calendar,
/// medians by sorting in Swift (the report's SQL takes intervals and percentile_cont).
struct IndependentFigures {
    var received = 0, acknowledged = 0, exported = 0, rejected = 0, noFootage = 0, ackBreaches = 0, ackWithin = 0
    var ackMinutes: [Double] = []

    var medianAcknowledge: Double? { Self.percentile(ackMinutes, 0.5) }
    var p90Acknowledge: Double? { Self.percentile(ackMinutes, 0.9) }

    static func percentile(_ values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = p * Double(sorted.count - 1)
        let low = Int(rank.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        return ((sorted[low] + (sorted[high] - sorted[low]) * (rank - Double(low))) * 10).rounded() / 10
    }

    /// The holder's figures (every holder's when `holder` is nil), never counting covert tasks.
    static func of(_ pool: PostgresPool, holder: UUID?, day: Day) async throws -> IndependentFigures {
        try await pool.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT (created_at AT TIME ZONE 'Europe/London')::date = $2::date,
                       coalesce((acknowledged_at AT TIME ZONE 'Europe/London')::date = $2::date, false),
                       coalesce((exported_at AT TIME ZONE 'Europe/London')::date = $2::date, false),
                       status, coalesce((settled_at AT TIME ZONE 'Europe/London')::date = $2::date, false),
                       (ack_due_at AT TIME ZONE 'Europe/London')::date = $2::date
                           AND (acknowledged_at IS NULL OR acknowledged_at > ack_due_at) AND (settled_at IS NULL OR settled_at > ack_due_at),
                       extract(epoch FROM acknowledged_at - created_at)::float8, acknowledged_at <= ack_due_at
                FROM evidence_tasks WHERE covert = false AND ($1::uuid IS NULL OR holder_org_id = $1)
                """,
                holder, day.description)
            var figures = IndependentFigures()
            for row in rows {
                if try row.decode(0) { figures.received += 1 }
                if try row.decode(1) {
                    figures.acknowledged += 1
                    figures.ackMinutes.append(try row.decode(6, as: Double.self) / 60)
                    if try row.decode(7, as: Bool?.self) == true { figures.ackWithin += 1 }
                }
                if try row.decode(2) { figures.exported += 1 }
                let status: String = try row.decode(3)
                if try row.decode(4) {
                    if status == "rejected" { figures.rejected += 1 }
                    if status == "no_footage" { figures.noFootage += 1 }
                }
                if try row.decode(5) { figures.ackBreaches += 1 }
            }
            return figures
        }
    }
}

@Suite("API: nightly partner reports")
struct ReportTests {
    @Test func aNightsReportsCountTheDayAsIndependentSQLDoesAndNeverCountCovertTasks() async throws {
        try await TestDatabase.withFresh { pool, url in
            let clock = ManualClock()
            try await withApp(pool: pool, url: url, clock: clock) { client, keys in
                let day = try await ReportDay.make(pool, client, keys, clock)
                let built = try await ReportDay.job(pool, clock).build(now: clock.now())
                // Seven nights caught up (21 to 27 March had nothing), the 28th among them: every organisation's but
                // MOPAC's and the platform's, and the pan-London one.
                let organisations = try await count("organisations WHERE kind NOT IN ('mopac', 'platform')", pool)
                #expect(built.count == 7 * (organisations + 1))
                #expect(try await ReportDay.job(pool, clock).build(now: clock.now()).isEmpty, "a rerun builds nothing")
                #expect(try await count("events WHERE type = 'report.ready'", pool) == built.count)

                let holder = try await fetchReport(client, keys(.operator), kind: .holder)
                #expect(holder.organisation?.id == TestKeys.westminster && holder.activity)
                #expect(holder.periodStart == ReportDay.at("2027-03-28T00:00:00Z") && holder.periodEnd == ReportDay.at("2027-03-28T23:00:00Z"))
                let westminster = try #require(holder.holder)
                let independent = try await IndependentFigures.of(pool, holder: TestKeys.westminster, day: ReportDay.day)
                #expect(westminster.tasks.received == independent.received)
                #expect(westminster.tasks.acknowledged == independent.acknowledged)
                #expect(westminster.tasks.exported == independent.exported)
                #expect(westminster.tasks.rejected == independent.rejected)
                #expect(westminster.breaches.acknowledge == independent.ackBreaches)
                let urgentAck = try #require(westminster.turnaround.first { $0.step == .acknowledge && $0.priority == .urgent })
                #expect(urgentAck.medianMinutes == independent.medianAcknowledge && urgentAck.p90Minutes == independent.p90Acknowledge)
                #expect(urgentAck.withinTarget == independent.ackWithin && urgentAck.targetMinutes == 60)
                // And the story: A, X and B arrived (not X's covert task); A in 30 minutes and X in 120; A exported in 3
                // hours; B rejected; X acknowledged late; the one-day camera lost on each of the three requests.
                #expect(westminster.tasks.received == 3 && westminster.tasks.acknowledged == 2 && westminster.tasks.exported == 1)
                #expect(urgentAck.count == 2 && urgentAck.withinTarget == 1 && urgentAck.medianMinutes == 75 && urgentAck.p90Minutes == 111)
                #expect(westminster.turnaround.first { $0.step == .export && $0.priority == .urgent }?.medianMinutes == 180)
                #expect(westminster.tasks.rejected == 1 && westminster.breaches.acknowledge == 1)
                #expect(westminster.lostFootage.alreadyOverwritten == 3)
                #expect(westminster.rooms.map(\.name) == ["Westminster CCTV"] && westminster.rooms[0].embedded)
                #expect(westminster.arrangements.map(\.policeOrganisation) == ["Metropolitan Police Service"])
                #expect(westminster.trend.count == 30 && westminster.trend.last?.date == ReportDay.day)
                #expect(westminster.trend.last?.received == 3 && westminster.trend.dropLast().allSatisfy { $0.received == 0 })
                #expect(westminster.cameras.first { $0.kind == .fixed }.map { ($0.operational, $0.planned) } ?? (0, 0) == (4, 1))

                let london = try #require(try await fetchReport(client, keys(.planner), kind: .london).london)
                let all = try await IndependentFigures.of(pool, holder: nil, day: ReportDay.day)
                #expect(london.tasks.received == all.received && all.received == 9, "nine tasks, not the covert tenth")
                #expect(london.tasks.acknowledged == all.acknowledged && london.breaches.acknowledge == all.ackBreaches && all.ackBreaches == 5)
                #expect(london.requests.made == 4 && london.requests.urgent == 2 && london.requests.noCameraFound == 1)
                #expect(london.league.filter { $0.gssCode != nil }.count == 33)
                // Value for money as the analytics give it for the same day.
                let value = try #require(london.valueForMoney)
                let analytics = try await client.send(.get, "/v1/analytics/value-for-money?as_of=2027-03-28", keys(.planner))
                    .decode(ValueForMoneyBody.self)
                #expect(value.from == Day("2026-03-29")! && value.rooms.map(\.name) == analytics.rooms.map(\.name))
                #expect(value.rooms.map(\.fulfilledTasks) == analytics.rooms.map(\.fulfilled_tasks))
                #expect(value.rooms.map(\.medianAcknowledgeMinutes) == analytics.rooms.map(\.median_acknowledge_minutes))
                #expect(value.medians.first?.medianAcknowledgeMinutes == analytics.london.median_acknowledge_minutes)
                let camden = try #require(london.league.first { $0.organisationId == TestKeys.camden })
                #expect(camden.tasks.received == 3 && camden.tasks.acknowledged == 0 && camden.breaches == 2)
                let embedded = try #require(london.embedding.first { $0.embedded })
                #expect(embedded.tasks.received == 3 && embedded.rooms == 1, "Westminster's room has MPS officers embedded")

                let police = try #require(try await fetchReport(client, keys(.requester, of: TestKeys.mps), kind: .police).police)
                #expect(police.requests.made == 4 && police.noCameraRequests.map(\.reference) == [day.references["C"]!])
                #expect(police.noCameraRequests.first?.gssCode == "E09000008")
                #expect(police.requestsByBorough.map { "\($0.gssCode)=\($0.requests)" } == ["E09000033=3", "E09000008=1"])
                let tfl = try #require(police.holders.first { $0.organisationId == TestKeys.tfl })
                #expect(tfl.tasks.received == 3 && tfl.tasks.acknowledged == 1 && tfl.medianAcknowledgeMinutes == 120 && tfl.breaches == 2)
                #expect(!police.holders.contains { $0.organisationId == TestKeys.mps }, "the covert task's holder is not named")

                // A quiet day has its report, which says so.
                let quiet = try await fetchReport(client, keys(.operator), kind: .holder, date: Day("2027-03-27")!)
                #expect(!quiet.activity && quiet.holder?.tasks.isEmpty == true)
                let page = try await client.send(.get, "/v1/reports/\(quiet.id.uuidString.lowercased())?format=html", keys(.operator))
                #expect(page.text.contains("No activity on this day"))
            }
        }
    }

    /// Tasks written directly with the times that make each of the rarer figures, around 28 March 2027 (the day runs
    /// 00:00Z to 23:00Z): each figure counts exactly the task staged for it.
    @Test func theRarerFiguresCountExactlyTheTasksStagedForThem() async throws {
        try await TestDatabase.withFresh { pool, url in
            let world = try await EvidenceWorld.make(pool)
            let clock = ManualClock(ReportDay.after)
            try await pool.withConnection { connection in
                func at(_ text: String) -> Date { ReportDay.at(text) }
                func task(
                    _ name: String, created: String, ackDue: String, exportDue: String, overwrite: String, status: String,
                    acknowledged: String? = nil,
                    exported: String? = nil, settled: String? = nil, holdUntil: String? = nil, covert: Bool = false
                ) async throws -> UUID {
                    let request: UUID = try await connection.query(
                        """
                        INSERT INTO evidence_requests (reference, requester_org_id, crime_reference, offence, priority, legal_basis, authorised_by,
                                                       location, radius_m, window_from, window_to, status, created_at, updated_at)
                        VALUES (evidence_reference($1), $2, $3, 'theft', 'urgent', 'DPA 2018', 'DS Stage',
                                ST_SetSRID(ST_MakePoint(-0.12655, 51.50095), 4326)::geography, 100, $1 - interval '2 hours', $1 - interval '1 hour',
                                'open', $1, $1)
                        RETURNING id
                        """,
                        at(created), TestKeys.mps, "STAGE " + name)[0].decode(0)
                    let id: UUID = try await connection.query(
                        """
                        INSERT INTO evidence_tasks (request_id, requester_org_id, holder_org_id, control_room_id, status, priority, ack_due_at,
                                                    export_due_at, overwrite_at, at_risk, acknowledged_at, exported_at, settled_at, hold_until,
                                                    covert, created_at, updated_at)
                        VALUES ($1, $2, $3, $4, $5, 'urgent', $6, $7, $8, false, $9, $10, $11, $12, $13, $14, $14)
                        RETURNING id
                        """,
                        request, TestKeys.mps, TestKeys.westminster, world.westminsterRoom, status, at(ackDue), at(exportDue), at(overwrite),
                        acknowledged.map(at), exported.map(at), settled.map(at), holdUntil.map(at), covert, at(created))[0].decode(0)
                    try await connection.query(
                        "INSERT INTO evidence_task_cameras (task_id, camera_id, overwrite_at, outcome, covert) VALUES ($1, $2, $3, $4, $5)", id,
                        covert ? world.covert : world.w1, at(overwrite), status == "exported" || status == "collected" ? "exported" : "pending",
                        covert)
                    return id
                }
                // Never acknowledged, its deadline two days gone by the day's end: escalated; its footage overwritten at noon.
                _ = try await task(
                    "escalated", created: "2027-03-26T10:00:00Z", ackDue: "2027-03-26T11:00:00Z", exportDue: "2027-03-27T10:00:00Z",
                    overwrite: "2027-03-28T12:00:00Z", status: "pending")
                // Arrived late in the day, unacknowledged at its end, its footage overwritten ten hours later: at risk.
                _ = try await task(
                    "at risk", created: "2027-03-28T20:00:00Z", ackDue: "2027-03-28T21:00:00Z", exportDue: "2027-03-29T20:00:00Z",
                    overwrite: "2027-03-29T09:00:00Z", status: "pending")
                // Acknowledged days before, its export due that morning and not made: an export deadline missed; its hold
                // ends a day after the day's end.
                _ = try await task(
                    "export late", created: "2027-03-25T10:00:00Z", ackDue: "2027-03-25T11:00:00Z", exportDue: "2027-03-28T05:00:00Z",
                    overwrite: "2027-05-01T00:00:00Z", status: "acknowledged", acknowledged: "2027-03-25T10:30:00Z", holdUntil: "2027-03-29T23:00:00Z"
                )
                // Exported in the morning and collected in the afternoon, with its item.
                let collected = try await task(
                    "collected", created: "2027-03-27T10:00:00Z", ackDue: "2027-03-27T11:00:00Z", exportDue: "2027-03-28T10:00:00Z",
                    overwrite: "2027-05-01T00:00:00Z", status: "collected", acknowledged: "2027-03-27T10:20:00Z", exported: "2027-03-28T08:00:00Z",
                    settled: "2027-03-28T15:00:00Z")
                try await connection.query(
                    """
                    INSERT INTO evidence_items (task_id, camera_id, exhibit_ref, file_name, format, size_bytes, sha256, recorded_from, recorded_to,
                                                status, collected_at, exported_at)
                    VALUES ($1, $2, 'ST/1', 'a.mp4', 'mp4', 1, repeat('a', 64), $3, $3, 'collected', $4, $5)
                    """,
                    collected, world.w1, at("2027-03-27T09:00:00Z"), at("2027-03-28T15:00:00Z"), at("2027-03-28T08:00:00Z"))
                // Cancelled an hour after it came; without footage an hour after it was acknowledged.
                _ = try await task(
                    "cancelled", created: "2027-03-28T01:00:00Z", ackDue: "2027-03-28T02:00:00Z", exportDue: "2027-03-29T01:00:00Z",
                    overwrite: "2027-05-01T00:00:00Z", status: "cancelled", settled: "2027-03-28T01:30:00Z")
                _ = try await task(
                    "no footage", created: "2027-03-28T03:00:00Z", ackDue: "2027-03-28T04:00:00Z", exportDue: "2027-03-29T03:00:00Z",
                    overwrite: "2027-05-01T00:00:00Z", status: "no_footage", acknowledged: "2027-03-28T03:10:00Z", settled: "2027-03-28T04:00:00Z")
                // A covert task that would count in every figure, if covert tasks were counted.
                _ = try await task(
                    "covert", created: "2027-03-26T10:00:00Z", ackDue: "2027-03-26T11:00:00Z", exportDue: "2027-03-28T05:00:00Z",
                    overwrite: "2027-03-28T12:00:00Z", status: "pending", holdUntil: "2027-03-29T23:00:00Z", covert: true)
            }
            try await ReportDay.job(pool, clock).build(now: clock.now())
            try await withApp(pool: pool, url: url, clock: clock) { client, keys in
                let holder = try #require(try await fetchReport(client, keys(.operator), kind: .holder).holder)
                #expect(holder.breaches.escalatedAtEnd == 1 && holder.atRiskAtEnd == 1 && holder.breaches.export == 1)
                #expect(holder.breaches.acknowledge == 1, "the late arrival's deadline passed at 21:00")
                #expect(holder.lostFootage.overwrittenBeforeExport == 1)
                #expect(holder.tasks.exported == 1 && holder.tasks.collected == 1 && holder.tasks.cancelled == 1 && holder.tasks.noFootage == 1)
                #expect(holder.tasks.received == 3 && holder.tasks.acknowledged == 1)
                let police = try #require(try await fetchReport(client, keys(.requester, of: TestKeys.mps), kind: .police).police)
                #expect(police.itemsCollected == 1 && police.holdsExpiring == 1)
                #expect(police.requests.made == 3, "the three requests made that day")
            }
        }
    }

    @Test func eachKeyReadsItsOwnOrganisationsReportsAndPlannersAnalystsAndMOPACTheLondonOnes() async throws {
        try await TestDatabase.withFresh { pool, url in
            let clock = ManualClock(ReportDay.after)
            try await ReportDay.job(pool, clock).build(now: clock.now())
            try await withApp(pool: pool, url: url, clock: clock) { client, keys in
                let mopac: UUID = try await pool.withConnection {
                    try await $0.query("SELECT id FROM organisations WHERE kind = 'mopac'")[0].decode(0)
                }
                let mopacAdmin = try await ProposalTests.key(pool, mopac, .partnerAdmin)
                let reports: [(id: String, organisation: UUID?, kind: String)] = try await pool.withConnection { connection in
                    try await connection.query("SELECT id::text, organisation_id, kind FROM reports WHERE report_date = '2027-03-28'").map {
                        (try $0.decode(0), try $0.decode(1), try $0.decode(2))
                    }
                }
                let all = Set(reports.map(\.id))
                func owned(_ organisation: UUID) -> Set<String> { Set(reports.filter { $0.organisation == organisation }.map(\.id)) }
                let london = Set(reports.filter { $0.kind == "london" }.map(\.id))
                #expect(london.count == 1 && owned(TestKeys.westminster).count == 1 && owned(TestKeys.mps).count == 1)
                let table: [(String, HTTPFields, Set<String>)] = [
                    ("Westminster operator", keys(.operator), owned(TestKeys.westminster)),
                    ("Westminster partner admin", keys(.partnerAdmin), owned(TestKeys.westminster)),
                    ("Westminster auditor", keys(.auditor), owned(TestKeys.westminster)),
                    ("Westminster planner", keys(.planner), owned(TestKeys.westminster).union(london)),
                    ("Westminster analyst", keys(.analyst), owned(TestKeys.westminster).union(london)),
                    ("MPS investigator", keys(.requester, of: TestKeys.mps), owned(TestKeys.mps)),
                    ("MPS embedded officer", keys(.embeddedOfficer, of: TestKeys.mps), owned(TestKeys.mps)),
                    ("MPS analyst", keys(.analyst, of: TestKeys.mps), owned(TestKeys.mps).union(london)),
                    ("MOPAC partner admin", mopacAdmin, london),
                    ("platform admin", keys(.admin), all),
                ]
                for (who, headers, readable) in table {
                    var listed: Set<String> = []
                    var cursor: String?
                    repeat {
                        let page = try await client.send(
                            .get, "/v1/reports?from=2027-03-28&to=2027-03-28&limit=20" + (cursor.map { "&cursor=" + $0 } ?? ""), headers)
                        #expect(page.status == .ok, "\(who): \(page.text)")
                        let body = try page.decode(ItemList<ReportListItem>.self)
                        listed.formUnion(body.items.map(\.id))
                        cursor = body.next_cursor
                    } while cursor != nil
                    #expect(listed == readable, "\(who) lists what it may read")
                    for report in reports {
                        let status = try await client.send(.get, "/v1/reports/" + report.id, headers).status
                        #expect(
                            status == (readable.contains(report.id) ? .ok : .notFound),
                            "\(who) reading \(report.kind) of \(String(describing: report.organisation))")
                    }
                }
                // Without a key, nothing.
                #expect(try await client.send(.get, "/v1/reports", [:]).status == .unauthorized)
            }
        }
    }

    @Test func theFormatComesFromFormatOrAcceptAndCSVAndZIPReadBackInPython() async throws {
        try await TestDatabase.withFresh { pool, url in
            let clock = ManualClock()
            try await withApp(pool: pool, url: url, clock: clock) { client, keys in
                _ = try await ReportDay.make(pool, client, keys, clock)
                // A room whose name a spreadsheet would run as a formula.
                try await pool.withConnection { connection in
                    try await connection.query(
                        "INSERT INTO control_rooms (operator_org_id, name) VALUES ($1, '=HYPERLINK(\"http://x\",\"y\")')", TestKeys.westminster)
                }
                try await ReportDay.job(pool, clock).build(now: clock.now())
                let report = try await fetchReport(client, keys(.operator), kind: .holder)
                let path = "/v1/reports/" + report.id.uuidString.lowercased()
                let operatorKey = keys(.operator)
                func get(_ query: String, accept: String?) async throws -> TestResponse {
                    var headers = operatorKey
                    if let accept { headers[.accept] = accept }
                    return try await client.send(.get, path + query, headers)
                }
                let table: [(query: String, accept: String?, status: HTTPResponse.Status, type: String?)] = [
                    ("", nil, .ok, "application/json"),
                    ("", "*/*", .ok, "application/json"),
                    ("", "application/*", .ok, "application/json"),
                    ("", "text/html", .ok, "text/html"),
                    ("", "text/html;q=0.5, application/json", .ok, "application/json"),
                    ("", "application/zip", .ok, "application/zip"),
                    ("", "text/csv", .notAcceptable, nil),
                    ("", "image/png", .notAcceptable, nil),
                    ("", "application/json;q=0", .notAcceptable, nil),
                    ("?section=summary", "text/csv", .ok, "text/csv"),
                    ("?section=summary", nil, .ok, "text/csv"),
                    ("?section=summary", "application/json", .notAcceptable, nil),
                    ("?format=json", "text/html", .ok, "application/json"),
                    ("?format=html", nil, .ok, "text/html"),
                    ("?format=csv", nil, .ok, "application/zip"),
                    ("?format=csv&section=trend", "application/json", .ok, "text/csv"),
                    ("?format=pdf", nil, .notAcceptable, nil),
                    ("?format=csv&section=nothing", nil, .badRequest, nil),
                ]
                for row in table {
                    let response = try await get(row.query, accept: row.accept)
                    #expect(response.status == row.status, "\(row.query) Accept \(row.accept ?? "-"): \(response.text.prefix(200))")
                    if let type = row.type {
                        let received = response.headers[.contentType]?.split(separator: ";").first.map(String.init)
                        #expect(received == type, "\(row.query) Accept \(row.accept ?? "-")")
                    }
                    if row.status.code >= 400 {
                        #expect(response.headers[.contentType] == "application/problem+json")
                        #expect(try response.decode(ProblemBody.self).detail?.isEmpty == false)
                    }
                }
                let unknown = try await get("?format=csv&section=nothing", accept: nil).decode(ProblemBody.self)
                #expect(unknown.detail?.contains("summary") == true || unknown.errors?.contains { $0.detail.contains("summary") } == true)
                let html = try await get("?format=html", accept: nil)
                #expect(html.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'none'") == true)
                #expect(html.headers[.contentDisposition] == "inline; filename=\"sightline-holder-2027-03-28.html\"")

                // The ZIP and the CSV, read back by Python's zipfile and csv modules.
                let directory = FileManager.default.temporaryDirectory.appending(path: "sightline-report-" + UUID().uuidString)
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: directory) }
                let zip = try await get("", accept: "application/zip")
                #expect(zip.headers[.contentDisposition] == "attachment; filename=\"sightline-holder-2027-03-28.zip\"")
                try Data(buffer: zip.body).write(to: directory.appending(path: "report.zip"))
                try Data(buffer: try await get("?section=summary", accept: "text/csv").body).write(to: directory.appending(path: "summary.csv"))
                let script = """
                    import csv, io, json, sys, zipfile
                    archive = zipfile.ZipFile(sys.argv[1] + "/report.zip")
                    assert archive.testzip() is None
                    tables = {name[:-4]: list(csv.reader(io.TextIOWrapper(archive.open(name), encoding="utf-8", newline="")))
                              for name in archive.namelist()}
                    with open(sys.argv[1] + "/summary.csv", newline="", encoding="utf-8") as f:
                        single = list(csv.reader(f))
                    assert single == tables["summary"], "the single section equals the ZIP's"
                    print(json.dumps(tables))
                    """
                let python = try ChildProcess("/usr/bin/python3", ["-c", script, directory.path])
                #expect(try await python.exitStatus() == 0, "\(python.output)")
                let tables = try JSONDecoder().decode([String: [[String]]].self, from: Data(python.output.utf8))
                #expect(Set(tables.keys) == Set(report.tables.map(\.name)))
                let summary = try #require(tables["summary"])
                #expect(summary.first == ["Measure", "Value"])
                #expect(summary.first { $0.first == "Tasks received" }?.last == String(report.holder!.tasks.received))
                #expect(summary.first { $0.first == "Acknowledge deadlines missed" }?.last == String(report.holder!.breaches.acknowledge))
                let rooms = try #require(tables["rooms"])
                #expect(rooms.contains { $0.first == "'=HYPERLINK(\"http://x\",\"y\")" }, "the formula is neutralised: \(rooms)")
                #expect(tables["trend"]?.count == 31)
            }
        }
    }

    @Test func theHTMLReportRendersInChromiumWithTheJSONsFiguresAndLoadsNothing() async throws {
        let python = try #require(
            ProcessInfo.processInfo.environment["SIGHTLINE_TEST_PYTHON"], "make test sets SIGHTLINE_TEST_PYTHON to a Python with Selenium")
        try await TestDatabase.withFresh { pool, url in
            let clock = ManualClock()
            try await withApp(pool: pool, url: url, clock: clock) { client, keys in
                _ = try await ReportDay.make(pool, client, keys, clock)
                try await ReportDay.job(pool, clock).build(now: clock.now())
                let artefacts = repositoryRoot.appending(path: ".build/test-artefacts")
                try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
                for (kind, headers) in [
                    (ReportKind.holder, keys(.operator)), (.police, keys(.requester, of: TestKeys.mps)), (.london, keys(.planner)),
                ] {
                    let report = try await fetchReport(client, headers, kind: kind)
                    let path = "/v1/reports/" + report.id.uuidString.lowercased()
                    let json = artefacts.appending(path: "report-\(kind.rawValue).json")
                    let html = artefacts.appending(path: "report-\(kind.rawValue).html")
                    try Data(buffer: try await client.send(.get, path, headers).body).write(to: json)
                    try Data(buffer: try await client.send(.get, path + "?format=html", headers).body).write(to: html)
                    let check = try ChildProcess(
                        python,
                        [
                            repositoryRoot.appending(path: "Tests/browser/check_report.py").path, html.path, json.path,
                            artefacts.appending(path: "report-\(kind.rawValue).png").path,
                        ])
                    #expect(try await check.exitStatus(timeout: .seconds(180)) == 0, "\(kind): \(check.output)")
                    #expect(FileManager.default.fileExists(atPath: artefacts.appending(path: "report-\(kind.rawValue).png").path))
                }
            }
        }
    }

    @Test func eachReportIsAnnouncedToItsOrganisationByWebhook() async throws {
        try await TestDatabase.withFresh { pool, url in
            let clock = ManualClock(ReportDay.after)
            try await withApp(pool: pool, url: url, webhooks: testWebhookSettings, clock: clock) { client, keys in
                let receiver = WebhookReceiver()
                try await receiver.run { base in
                    let endpoint = try await client.register(base + "/ok/westminster", keys(.partnerAdmin), types: ["report.ready"])
                    let secret = try #require(endpoint.secret)
                    try await withDispatchers(1, url: url, clock: clock) {
                        let built = try await ReportDay.job(pool, clock).build(now: clock.now())
                        let westminster = built.filter { $0.organisationID == TestKeys.westminster }
                        #expect(westminster.count == 7)
                        #expect(try await eventually(.seconds(30)) { receiver.on("/ok/westminster").count == 7 })
                        let hooks = receiver.on("/ok/westminster")
                        #expect(hooks.allSatisfy { $0.type == "report.ready" && $0.isSigned(by: secret) })
                        #expect(Set(hooks.compactMap { $0.data["id"] as? String }) == Set(westminster.map { $0.id.uuidString.lowercased() }))
                        #expect(
                            hooks.allSatisfy {
                                $0.data["kind"] as? String == "holder" && $0.data["organisation_id"] as? String == TestKeys.westminster.text
                            })
                    }
                }
            }
        }
    }

    @Test func threeWorkersRacingBuildEachReportOnce() async throws {
        try await TestDatabase.withFresh { pool, url in
            let clock = ManualClock(ReportDay.after)
            let pools = try (0..<3).map { _ in try TestDatabase.makePool(url: TestDatabase.serverURL(url)) }
            let built = try await withThrowingTaskGroup(of: Int.self) { group in
                for workerPool in pools { group.addTask { try await ReportDay.job(workerPool, clock).build(now: clock.now()).count } }
                return try await group.reduce(0, +)
            }
            for workerPool in pools { await workerPool.close() }
            let organisations = try await count("organisations WHERE kind NOT IN ('mopac', 'platform')", pool)
            #expect(built == 7 * (organisations + 1), "between them the workers built each report once")
            #expect(try await count("reports", pool) == built)
            #expect(try await count("(SELECT organisation_id, kind, report_date FROM reports GROUP BY 1, 2, 3 HAVING count(*) > 1) x", pool) == 0)
            #expect(try await count("events WHERE type = 'report.ready'", pool) == built, "each announced once")
            #expect(try await count("job_runs WHERE name = 'nightly-reports'", pool) == 7)
        }
    }

    @Test func theJobBuildsEachNightAtTwoLondonTimeAcrossBothClockChanges() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let clock = ManualClock(ReportDay.at("2027-03-28T00:59:00Z"))
            let job = ReportDay.job(pool, clock)
            func nights() async throws -> [String] {
                try await pool.withConnection { connection in
                    try await connection.query("SELECT DISTINCT report_date::text FROM reports ORDER BY 1").map { try $0.decode(0) }
                }
            }
            // 01:59 GMT on the 28th, a minute before the clocks go forward: the 27th is not due yet.
            try await job.build(now: clock.now())
            var built = try await nights()
            #expect(built.last == "2027-03-26" && built.count == 7)
            // 01:00 UTC is 02:00 BST: the 27th is due.
            clock.set(ReportDay.at("2027-03-28T01:00:00Z"))
            try await job.build(now: clock.now())
            built = try await nights()
            #expect(built.last == "2027-03-27" && built.count == 8)
            // In October 02:00 comes once, in GMT, an hour after the first 01:00.
            clock.set(ReportDay.at("2027-10-31T01:59:00Z"))
            try await job.build(now: clock.now())
            #expect(try await nights().last == "2027-10-29", "the catch-up goes back seven nights at most")
            #expect(try await nights().count == 15)
            clock.set(ReportDay.at("2027-10-31T02:00:00Z"))
            try await job.build(now: clock.now())
            #expect(try await nights().last == "2027-10-30")
            clock.set(ReportDay.at("2027-11-01T02:00:00Z"))
            try await job.build(now: clock.now())
            let period: (Date, Date) = try await pool.withConnection { connection in
                let row = try await connection.query(
                    "SELECT (content->>'period_start')::timestamptz, (content->>'period_end')::timestamptz FROM reports WHERE report_date = '2027-10-31' LIMIT 1"
                )[0]
                return (try row.decode(0), try row.decode(1))
            }
            #expect(period.1.timeIntervalSince(period.0) == 25 * 3600, "the day the clocks go back is 25 hours long")
        }
    }

    @Test func listFiltersAreCheckedAndNamed() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                for (query, parameter) in [
                    ("from=2027-13-01", "from"), ("to=yesterday", "to"), ("from=2027-03-28&to=2027-03-27", "to"), ("kind=weekly", "kind"),
                    ("limit=0", "limit"), ("cursor=nonsense", "cursor"),
                ] {
                    let response = try await client.send(.get, "/v1/reports?" + query, keys(.operator))
                    #expect(response.status == .badRequest, "\(query): \(response.text)")
                    #expect(response.text.contains(parameter), "\(query) names \(parameter): \(response.text)")
                }
                #expect(try await client.send(.get, "/v1/reports/not-a-uuid", keys(.operator)).status == .notFound)
                #expect(try await client.send(.get, "/v1/reports/" + UUID().uuidString, keys(.operator)).status == .notFound)
            }
        }
    }
}

@Suite("CLI: sightline reports build")
struct ReportCommandTests {
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "sightline").path

    static func run(_ url: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = try ChildProcess(binary, ["reports", "build"] + arguments, environment: ["SIGHTLINE_DATABASE_URL": url])
        let status = try await process.exitStatus(timeout: .seconds(120))
        return (status, process.output)
    }

    @Test func itBuildsANightOnceAndRefusesWhatCannotBeBuilt() async throws {
        try await TestDatabase.withFresh { pool, url in
            let yesterday = ReportSchedule.london.day(of: Date()).adding(days: -1)
            let organisations = try await count("organisations WHERE kind NOT IN ('mopac', 'platform')", pool)
            let first = try await Self.run(url, ["--date", yesterday.description])
            #expect(
                first.status == 0 && first.output.contains("\(yesterday): \(organisations + 1) report(s) built, 0 already stored"), "\(first.output)")
            let again = try await Self.run(url, ["--date", yesterday.description])
            #expect(again.status == 0 && again.output.contains("0 report(s) built, \(organisations + 1) already stored"), "\(again.output)")
            #expect(try await count("reports", pool) == organisations + 1)
            #expect(try await count("events WHERE type = 'report.ready'", pool) == organisations + 1)
            // By hand, nothing is recorded as the night's run: the job still looks at the night, finds it built.
            #expect(try await count("job_runs", pool) == 0)

            // One organisation's, by GSS code, for a night before.
            let before = yesterday.adding(days: -1)
            let one = try await Self.run(url, ["--date", before.description, "--org", "E09000033"])
            #expect(
                one.status == 0 && one.output.contains("\(before): 1 report(s) built, 0 already stored") && one.output.contains("holder"),
                "\(one.output)")

            // A business added today has no report of yesterday; MOPAC has none of its own; a day must have ended.
            try await pool.withConnection { connection in
                try await connection.query("INSERT INTO organisations (kind, name) VALUES ('business', 'Newly Added Ltd')")
            }
            let refusals: [([String], String)] = [
                (["--date", "28-03-2027"], "--date must be a date, YYYY-MM-DD"),
                (["--date", "2027-02-30"], "--date must be a date, YYYY-MM-DD"),
                (["--date", ReportSchedule.london.day(of: Date()).description], "has not ended yet"),
                (["--date", "2099-01-01"], "has not ended yet"),
                (["--date", yesterday.description, "--org", "Newly Added Ltd"], "Newly Added Ltd was added on"),
                (["--date", yesterday.description, "--org", "Mayor's Office for Policing and Crime"], "has no report of its own"),
                (["--date", yesterday.description, "--org", "Nobody at all"], "no organisation has the id, name or GSS code"),
            ]
            for (arguments, message) in refusals {
                let result = try await Self.run(url, arguments)
                #expect(result.status != 0 && result.output.contains(message), "\(arguments): \(result.output)")
            }
            #expect(try await count("reports", pool) == organisations + 2, "nothing half-written by a refusal")
        }
    }
}
