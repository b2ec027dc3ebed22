import Domain
import Foundation
import LibPQ

/// The figures of one London day for every organisation, read in a handful of grouped queries inside the caller's
/// snapshot, then cut into each organisation's report. Covert tasks and cameras are left out of every query.
///
/// The tasks a day's figures can touch are copied once into a temporary table: those created from the longest
/// deadline before the day to its end, those acknowledged, exported or settled in or after the day (so every task
/// live at the day's end), and those live now.
struct ReportBuilder {
    struct Organisation {
        var id: UUID
        var name: String
        var kind: OrganisationKind
        var gssCode: String?
        var createdAt: Date
        /// Installed by the migrations: present on every day, whenever it was installed.
        var reference: Bool

        /// Whether it was in Sightline's London on a day ending at `end`.
        func existed(before end: Date) -> Bool { reference || createdAt < end }
    }

    /// The task figures of one group of tasks (see `load`).
    struct Figures {
        var tasks = TaskCounts()
        var acknowledgedWithinTarget = 0
        var exportedWithinTarget = 0
        var medianAcknowledge: Double?
        var p90Acknowledge: Double?
        var medianExport: Double?
        var p90Export: Double?
        var breaches = Breaches()
        var atRisk = 0

        /// Whether a holder did or missed anything that day: what earns it a line of its own.
        var worked: Bool { !tasks.isEmpty || breaches != Breaches() }
    }

    let day: Day
    let start: Date
    let end: Date
    /// The start of the first of the 30 days of the trend.
    let trendStart: Date
    let timeZone: String
    let sla: EvidenceSLA
    let now: Date
    let organisations: [UUID: Organisation]
    var byHolderPriority: [UUID: [EvidencePriority: Figures]] = [:]
    var byHolder: [UUID: Figures] = [:]
    var byPriority: [EvidencePriority: Figures] = [:]
    var byRequesterHolder: [UUID: [UUID: Figures]] = [:]
    var byEmbedded: [Bool: Figures] = [:]
    var total = Figures()
    var trendByHolder: [UUID: [Day: TrendDay]] = [:]
    var trendByRequester: [UUID: [Day: TrendDay]] = [:]
    var trendLondon: [Day: TrendDay] = [:]
    var requestsByRequester: [UUID: RequestCounts] = [:]
    var requestsLondon = RequestCounts()
    var requestsByBorough: [UUID: [BoroughCount]] = [:]
    var noCamera: [UUID: [NoCameraRequest]] = [:]
    var itemsCollected: [UUID: Int] = [:]
    var holdsExpiring: [UUID: Int] = [:]
    var alreadyOverwritten: [UUID: Int] = [:]
    var overwrittenBeforeExport: [UUID: Int] = [:]
    var cameras: [UUID: [CameraKind: CameraStatusCount]] = [:]
    var rooms: [UUID: [ReportRoom]] = [:]
    var roomsByEmbedded: [Bool: Int] = [:]
    var arrangements: [UUID: [ReportArrangement]] = [:]
    var proposals: [ReportProposal] = []
    var valueForMoney: ValueForMoney?

    /// Every figure of `day` in `schedule`'s zone, read on `connection` inside the caller's snapshot.
    static func load(
        day: Day, schedule: ReportSchedule, sla: EvidenceSLA, now: Date, organisations: [UUID: Organisation], on connection: PostgresConnection
    ) async throws -> ReportBuilder {
        let (start, end) = schedule.interval(of: day)
        var builder = ReportBuilder(
            day: day, start: start, end: end, trendStart: schedule.interval(of: day.adding(days: -29)).start,
            timeZone: schedule.timeZone.identifier, sla: sla, now: now, organisations: organisations)
        try await builder.loadTasks(connection)
        try await builder.loadTrend(connection)
        try await builder.loadRequests(connection)
        try await builder.loadLostFootage(connection)
        try await builder.loadRegistry(connection)
        try await builder.loadProposals(connection)
        builder.valueForMoney = try await AnalyticsStore.valueForMoney(asOf: day, on: connection)
        return builder
    }

    /// Every organisation, by id.
    static func organisations(_ connection: PostgresConnection) async throws -> [UUID: Organisation] {
        var organisations: [UUID: Organisation] = [:]
        for row in try await connection.query("SELECT id, name, kind, gss_code, created_at, reference FROM organisations") {
            let kind: String = try row.decode(2)
            let organisation = Organisation(
                id: try row.decode(0), name: try row.decode(1), kind: OrganisationKind(rawValue: kind) ?? .other, gssCode: try row.decode(3),
                createdAt: try row.decode(4), reference: try row.decode(5))
            organisations[organisation.id] = organisation
        }
        return organisations
    }

    /// The day's task figures, grouped every way a report cuts them, in one pass over the day's tasks.
    private mutating func loadTasks(_ connection: PostgresConnection) async throws {
        let longest = EvidencePriority.allCases.map { sla.deadlines($0, from: start) }.map { max($0.acknowledge, $0.export) }.max() ?? start
        let horizon = start.addingTimeInterval(-(longest.timeIntervalSince(start)) - 86_400)
        try await connection.query(
            """
            CREATE TEMPORARY TABLE report_tasks ON COMMIT DROP AS
            SELECT t.id, t.requester_org_id, t.holder_org_id, t.priority, t.status, t.created_at, t.ack_due_at, t.export_due_at,
                   t.overwrite_at, t.acknowledged_at, t.exported_at, t.settled_at,
                   extract(epoch FROM t.acknowledged_at - t.created_at) / 60 AS ack_minutes,
                   extract(epoch FROM t.exported_at - t.created_at) / 60 AS export_minutes,
                   EXISTS (SELECT 1 FROM embedding_arrangements a
                           WHERE a.control_room_id = t.control_room_id AND a.model = 'embedded'
                             AND a.starts_on <= $4 AND (a.ends_on IS NULL OR a.ends_on >= $4)) AS embedded
            FROM evidence_tasks t
            WHERE NOT t.covert AND t.created_at < $2
              AND (t.created_at >= $3 OR t.acknowledged_at >= $1 OR t.exported_at >= $1 OR t.settled_at >= $1
                   OR t.status IN ('pending', 'acknowledged'))
            """,
            start, end, horizon, PostgresDate(day)
        )
        // A task is pending at the day's end if it was created before it and neither acknowledged nor settled by it;
        // acknowledged at the end if acknowledged before it and neither exported nor settled by it.
        let rows = try await connection.query(
            """
            WITH f AS (
                SELECT *,
                       created_at >= $1 AS received,
                       acknowledged_at >= $1 AND acknowledged_at < $2 AS acknowledged_today,
                       exported_at >= $1 AND exported_at < $2 AS exported_today,
                       settled_at >= $1 AND settled_at < $2 AS settled_today,
                       (acknowledged_at IS NULL OR acknowledged_at >= $2) AND (settled_at IS NULL OR settled_at >= $2) AS pending_at_end,
                       acknowledged_at < $2 AND (exported_at IS NULL OR exported_at >= $2) AND (settled_at IS NULL OR settled_at >= $2)
                           AS acknowledged_at_end
                FROM report_tasks
            )
            SELECT GROUPING(holder_org_id, requester_org_id, priority, embedded), holder_org_id, requester_org_id, priority, embedded,
                   count(*) FILTER (WHERE received),
                   count(*) FILTER (WHERE acknowledged_today),
                   count(*) FILTER (WHERE exported_today),
                   count(*) FILTER (WHERE settled_today AND status = 'collected'),
                   count(*) FILTER (WHERE settled_today AND status = 'no_footage'),
                   count(*) FILTER (WHERE settled_today AND status = 'rejected'),
                   count(*) FILTER (WHERE settled_today AND status = 'cancelled'),
                   count(*) FILTER (WHERE acknowledged_today AND acknowledged_at <= ack_due_at),
                   count(*) FILTER (WHERE exported_today AND exported_at <= export_due_at),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY ack_minutes) FILTER (WHERE acknowledged_today),
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY ack_minutes) FILTER (WHERE acknowledged_today),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY export_minutes) FILTER (WHERE exported_today),
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY export_minutes) FILTER (WHERE exported_today),
                   count(*) FILTER (WHERE ack_due_at >= $1 AND ack_due_at < $2
                                      AND coalesce(acknowledged_at, settled_at, 'infinity') > ack_due_at),
                   count(*) FILTER (WHERE export_due_at >= $1 AND export_due_at < $2
                                      AND coalesce(exported_at, settled_at, 'infinity') > export_due_at),
                   count(*) FILTER (WHERE (pending_at_end AND ack_due_at <= $2 - interval '24 hours')
                                       OR (acknowledged_at_end AND export_due_at <= $2 - interval '24 hours')),
                   count(*) FILTER (WHERE pending_at_end AND overwrite_at > $2 AND overwrite_at <= $2 + interval '24 hours')
            FROM f
            GROUP BY GROUPING SETS ((holder_org_id, priority), (holder_org_id), (requester_org_id, holder_org_id), (priority), (embedded), ())
            """,
            start, end
        )
        for row in rows {
            var figures = Figures()
            figures.tasks.received = try row.decode(5)
            figures.tasks.acknowledged = try row.decode(6)
            figures.tasks.exported = try row.decode(7)
            figures.tasks.collected = try row.decode(8)
            figures.tasks.noFootage = try row.decode(9)
            figures.tasks.rejected = try row.decode(10)
            figures.tasks.cancelled = try row.decode(11)
            figures.acknowledgedWithinTarget = try row.decode(12)
            figures.exportedWithinTarget = try row.decode(13)
            figures.medianAcknowledge = try row.decode(14, as: Double?.self).map(\.roundedToTenth)
            figures.p90Acknowledge = try row.decode(15, as: Double?.self).map(\.roundedToTenth)
            figures.medianExport = try row.decode(16, as: Double?.self).map(\.roundedToTenth)
            figures.p90Export = try row.decode(17, as: Double?.self).map(\.roundedToTenth)
            figures.breaches.acknowledge = try row.decode(18)
            figures.breaches.export = try row.decode(19)
            figures.breaches.escalatedAtEnd = try row.decode(20)
            figures.atRisk = try row.decode(21)
            let holder: UUID? = try row.decode(1)
            let requester: UUID? = try row.decode(2)
            let priority = try row.decode(3, as: String?.self).flatMap(EvidencePriority.init(rawValue:))
            let embedded: Bool? = try row.decode(4)
            // GROUPING's bits, highest first: holder, requester, priority, embedded; a set bit is a column left out.
            switch try row.decode(0, as: Int.self) {
            case 0b0101: byHolderPriority[holder!, default: [:]][priority!] = figures
            case 0b0111: byHolder[holder!] = figures
            case 0b0011: byRequesterHolder[requester!, default: [:]][holder!] = figures
            case 0b1101: byPriority[priority!] = figures
            case 0b1110: byEmbedded[embedded!] = figures
            default: total = figures
            }
        }
    }

    /// The 30 days up to the report's: tasks received, acknowledged and exported each day, by holder, by requester
    /// and for London.
    private mutating func loadTrend(_ connection: PostgresConnection) async throws {
        let first = day.adding(days: -29)
        let rows = try await connection.query(
            """
            WITH e AS (
                SELECT holder_org_id, requester_org_id, (created_at AT TIME ZONE $3)::date AS day, 'received' AS what, NULL::float8 AS minutes,
                       false AS within
                FROM evidence_tasks WHERE NOT covert AND created_at >= $1 AND created_at < $2
                UNION ALL
                SELECT holder_org_id, requester_org_id, (acknowledged_at AT TIME ZONE $3)::date, 'acknowledged',
                       extract(epoch FROM acknowledged_at - created_at) / 60, acknowledged_at <= ack_due_at
                FROM evidence_tasks WHERE NOT covert AND acknowledged_at >= $1 AND acknowledged_at < $2
                UNION ALL
                SELECT holder_org_id, requester_org_id, (exported_at AT TIME ZONE $3)::date, 'exported', NULL, false
                FROM evidence_tasks WHERE NOT covert AND exported_at >= $1 AND exported_at < $2
            )
            SELECT GROUPING(holder_org_id, requester_org_id), holder_org_id, requester_org_id, day,
                   count(*) FILTER (WHERE what = 'received'), count(*) FILTER (WHERE what = 'acknowledged'),
                   count(*) FILTER (WHERE what = 'acknowledged' AND within), count(*) FILTER (WHERE what = 'exported'),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY minutes) FILTER (WHERE what = 'acknowledged')
            FROM e GROUP BY GROUPING SETS ((holder_org_id, day), (requester_org_id, day), (day))
            """,
            trendStart, end, timeZone
        )
        for row in rows {
            let date = try Day(row.decode(3, as: PostgresDate.self))
            guard date >= first, date <= day else { continue }
            let trend = TrendDay(
                date: date, received: try row.decode(4), acknowledged: try row.decode(5), acknowledgedWithinTarget: try row.decode(6),
                exported: try row.decode(7), medianAcknowledgeMinutes: try row.decode(8, as: Double?.self).map(\.roundedToTenth))
            switch try row.decode(0, as: Int.self) {
            case 0b01: trendByHolder[try row.decode(1, as: UUID.self), default: [:]][date] = trend
            case 0b10: trendByRequester[try row.decode(2, as: UUID.self), default: [:]][date] = trend
            default: trendLondon[date] = trend
            }
        }
    }

    /// The requests made that day, where their incidents lay, the ones that found nothing to task; the items
    /// collected that day and the holds ending within two days of its end, by requester.
    private mutating func loadRequests(_ connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            SELECT q.requester_org_id, q.priority, q.status_reason, q.reference, b.gss_code, b.name
            FROM evidence_requests q LEFT JOIN boroughs b ON b.gss_code = borough_at(q.location::geometry)
            WHERE q.created_at >= $1 AND q.created_at < $2
            ORDER BY q.reference
            """,
            start, end
        )
        var boroughs: [UUID: [String: BoroughCount]] = [:]
        for row in rows {
            let requester: UUID = try row.decode(0)
            let priority: String = try row.decode(1)
            let reason: String? = try row.decode(2)
            let gss: String? = try row.decode(4)
            Self.count(&requestsLondon, priority: priority, reason: reason)
            Self.count(&requestsByRequester[requester, default: RequestCounts()], priority: priority, reason: reason)
            if let gss {
                let name: String = try row.decode(5)
                boroughs[requester, default: [:]][gss, default: BoroughCount(gssCode: gss, name: name, requests: 0)].requests += 1
            }
            if let reason { noCamera[requester, default: []].append(NoCameraRequest(reference: try row.decode(3), reason: reason, gssCode: gss)) }
        }
        requestsByBorough = boroughs.mapValues { $0.values.sorted { ($0.requests, $1.name) > ($1.requests, $0.name) } }
        for row in try await connection.query(
            """
            SELECT t.requester_org_id, count(*) FROM evidence_items i JOIN evidence_tasks t ON t.id = i.task_id
            WHERE i.collected_at >= $1 AND i.collected_at < $2 AND NOT t.covert GROUP BY 1
            """,
            start, end)
        {
            itemsCollected[try row.decode(0)] = try row.decode(1)
        }
        for row in try await connection.query(
            """
            SELECT requester_org_id, count(*) FROM evidence_tasks
            WHERE NOT covert AND hold_until >= $1 AND hold_until < $1 + interval '48 hours' AND created_at < $1
              AND (hold_released_at IS NULL OR hold_released_at >= $1)
            GROUP BY 1
            """,
            end)
        {
            holdsExpiring[try row.decode(0)] = try row.decode(1)
        }
    }

    private static func count(_ counts: inout RequestCounts, priority: String, reason: String?) {
        counts.made += 1
        if priority == EvidencePriority.urgent.rawValue { counts.urgent += 1 } else { counts.standard += 1 }
        if reason == "no_cameras_found" { counts.noCameraFound += 1 }
        if reason == "all_overwritten" { counts.allOverwritten += 1 }
    }

    /// Cameras already overwritten when a request of the day found them (by the camera's holder: its room's operator,
    /// or its owner), and tasked cameras overwritten that day before their holder acknowledged (and so held) the
    /// footage or the task was settled.
    private mutating func loadLostFootage(_ connection: PostgresConnection) async throws {
        for row in try await connection.query(
            """
            SELECT coalesce(r.operator_org_id, c.owner_org_id), count(*)
            FROM evidence_request_exclusions x JOIN evidence_requests q ON q.id = x.request_id
                 JOIN cameras c ON c.id = x.camera_id LEFT JOIN control_rooms r ON r.id = c.control_room_id
            WHERE q.created_at >= $1 AND q.created_at < $2 AND x.reason = 'already_overwritten' AND NOT x.covert
            GROUP BY 1
            """,
            start, end)
        {
            alreadyOverwritten[try row.decode(0)] = try row.decode(1)
        }
        for row in try await connection.query(
            """
            SELECT t.holder_org_id, count(*)
            FROM evidence_task_cameras tc JOIN evidence_tasks t ON t.id = tc.task_id
            WHERE tc.overwrite_at >= $1 AND tc.overwrite_at < $2 AND NOT tc.covert AND NOT t.covert AND tc.outcome <> 'exported'
              AND t.created_at < tc.overwrite_at AND coalesce(t.acknowledged_at, t.settled_at, 'infinity') > tc.overwrite_at
            GROUP BY 1
            """,
            start, end)
        {
            overwrittenBeforeExport[try row.decode(0)] = try row.decode(1)
        }
    }

    /// Cameras by owner, kind and status; rooms and the arrangements in force on the day, by the rooms' operators.
    private mutating func loadRegistry(_ connection: PostgresConnection) async throws {
        for row in try await connection.query("SELECT owner_org_id, kind, status, count(*) FROM cameras WHERE NOT covert GROUP BY 1, 2, 3") {
            guard let kind = CameraKind(rawValue: try row.decode(1)) else { continue }
            let owner: UUID = try row.decode(0)
            let count: Int = try row.decode(3)
            var line = cameras[owner]?[kind] ?? CameraStatusCount(kind: kind)
            switch try row.decode(2, as: String.self) {
            case "operational": line.operational += count
            case "faulty": line.faulty += count
            case "planned": line.planned += count
            default: line.decommissioned += count
            }
            cameras[owner, default: [:]][kind] = line
        }
        let embeddedToday = """
            EXISTS (SELECT 1 FROM embedding_arrangements a WHERE a.control_room_id = r.id AND a.model = 'embedded'
                    AND a.starts_on <= $1 AND (a.ends_on IS NULL OR a.ends_on >= $1))
            """
        for row in try await connection.query(
            """
            SELECT r.operator_org_id, r.id, r.name, r.status, ARRAY(SELECT gss_code FROM control_room_boroughs WHERE control_room_id = r.id ORDER BY 1),
                   r.operator_positions,
                   (SELECT count(*) FROM cameras c WHERE c.control_room_id = r.id AND NOT c.covert AND c.status IN ('operational', 'faulty')),
                   \(embeddedToday)
            FROM control_rooms r ORDER BY r.name, r.id
            """,
            PostgresDate(day))
        {
            let room = ReportRoom(
                id: try row.decode(1), name: try row.decode(2), status: try row.decode(3), boroughsServed: try row.decode(4),
                operatorPositions: try row.decode(5), camerasInService: try row.decode(6), embedded: try row.decode(7))
            rooms[try row.decode(0), default: []].append(room)
            if room.status == "active" { roomsByEmbedded[room.embedded, default: 0] += 1 }
        }
        for row in try await connection.query(
            """
            SELECT r.operator_org_id, r.name, o.name, a.model, a.staff_count, a.hours_per_week::float8, a.review_due_on
            FROM embedding_arrangements a JOIN control_rooms r ON r.id = a.control_room_id JOIN organisations o ON o.id = a.police_org_id
            WHERE a.starts_on <= $1 AND (a.ends_on IS NULL OR a.ends_on >= $1)
            ORDER BY r.name, o.name, a.model
            """,
            PostgresDate(day))
        {
            arrangements[try row.decode(0), default: []].append(
                ReportArrangement(
                    room: try row.decode(1), policeOrganisation: try row.decode(2), model: try row.decode(3), staffCount: try row.decode(4),
                    hoursPerWeek: try row.decode(5), reviewDueOn: try row.decode(6, as: PostgresDate?.self).map(Day.init)))
        }
    }

    /// Every proposal but the withdrawn, with its milestones as they stood at the day's end.
    private mutating func loadProposals(_ connection: PostgresConnection) async throws {
        proposals = try await connection.query(
            """
            SELECT p.id, p.title, p.status, p.decision_reference,
                   count(m.id), count(m.id) FILTER (WHERE m.completed_on <= $1),
                   count(m.id) FILTER (WHERE m.due_on <= $1 AND (m.completed_on IS NULL OR m.completed_on > $1)),
                   (array_agg(m.title ORDER BY m.due_on, m.id) FILTER (WHERE m.completed_on IS NULL OR m.completed_on > $1))[1],
                   min(m.due_on) FILTER (WHERE m.completed_on IS NULL OR m.completed_on > $1)
            FROM proposals p LEFT JOIN proposal_milestones m ON m.proposal_id = p.id
            WHERE p.status <> 'withdrawn' AND p.created_at < $2
            GROUP BY p.id ORDER BY p.title, p.id
            """,
            PostgresDate(day), end
        ).map { row in
            ReportProposal(
                id: try row.decode(0), title: try row.decode(1), status: try row.decode(2), decisionReference: try row.decode(3),
                milestones: try row.decode(4), milestonesCompleted: try row.decode(5), milestonesOverdue: try row.decode(6),
                nextMilestone: try row.decode(7), nextDueOn: try row.decode(8, as: PostgresDate?.self).map(Day.init))
        }
    }
}

// MARK: Cutting the reports

extension ReportBuilder {
    /// The report of `kind` for `organisationID` (none for the pan-London one).
    func report(kind: ReportKind, organisationID: UUID?) -> Report {
        let organisation = organisationID.flatMap { organisations[$0] }
        var report = Report(
            id: UUID(), kind: kind, reportDate: day,
            organisation: organisation.map { ReportOrganisation(id: $0.id, name: $0.name, kind: $0.kind, gssCode: $0.gssCode) },
            timeZone: timeZone, periodStart: start, periodEnd: end, generatedAt: now, activity: false)
        switch kind {
        case .holder:
            let holder = holderReport(organisationID!)
            report.holder = holder
            report.activity = !holder.tasks.isEmpty || holder.breaches != Breaches() || holder.lostFootage != LostFootage() || holder.atRiskAtEnd > 0
        case .police:
            let police = policeReport(organisationID!)
            report.police = police
            report.activity = police.requests.made > 0 || police.holders.contains { !$0.tasks.isEmpty } || police.itemsCollected > 0
        case .london:
            let london = londonReport()
            report.london = london
            report.activity = london.requests.made > 0 || !london.tasks.isEmpty || london.breaches != Breaches()
        }
        return report
    }

    private func turnaround(_ figures: [EvidencePriority: Figures]) -> [Turnaround] {
        Turnaround.Step.allCases.flatMap { step in
            EvidencePriority.allCases.map { priority in
                let f = figures[priority] ?? Figures()
                let deadlines = sla.deadlines(priority, from: start)
                let target = (step == .acknowledge ? deadlines.acknowledge : deadlines.export).timeIntervalSince(start)
                return Turnaround(
                    step: step, priority: priority, targetMinutes: Int((target / 60).rounded()),
                    count: step == .acknowledge ? f.tasks.acknowledged : f.tasks.exported,
                    withinTarget: step == .acknowledge ? f.acknowledgedWithinTarget : f.exportedWithinTarget,
                    medianMinutes: step == .acknowledge ? f.medianAcknowledge : f.medianExport,
                    p90Minutes: step == .acknowledge ? f.p90Acknowledge : f.p90Export)
            }
        }
    }

    /// The 30 days up to the report's, every day present (a quiet day as zeros).
    private func trend(_ days: [Day: TrendDay]?) -> [TrendDay] {
        (0..<30).reversed().map { back in
            let date = day.adding(days: -back)
            return days?[date]
                ?? TrendDay(date: date, received: 0, acknowledged: 0, acknowledgedWithinTarget: 0, exported: 0, medianAcknowledgeMinutes: nil)
        }
    }

    private func holderReport(_ id: UUID) -> HolderReport {
        let figures = byHolder[id] ?? Figures()
        var lost = LostFootage()
        lost.alreadyOverwritten = alreadyOverwritten[id] ?? 0
        lost.overwrittenBeforeExport = overwrittenBeforeExport[id] ?? 0
        return HolderReport(
            tasks: figures.tasks, turnaround: turnaround(byHolderPriority[id] ?? [:]), medianAcknowledgeMinutes: figures.medianAcknowledge,
            breaches: figures.breaches, atRiskAtEnd: figures.atRisk,
            lostFootage: lost, cameras: CameraKind.allCases.compactMap { cameras[id]?[$0] }, rooms: rooms[id] ?? [],
            arrangements: arrangements[id] ?? [], trend: trend(trendByHolder[id]))
    }

    private func line(_ holder: UUID, _ figures: Figures, lost: Int) -> HolderLine {
        let organisation = organisations[holder]
        return HolderLine(
            organisationId: holder, name: organisation?.name ?? "", gssCode: organisation?.gssCode, tasks: figures.tasks,
            acknowledgedWithinTarget: figures.acknowledgedWithinTarget, exportedWithinTarget: figures.exportedWithinTarget,
            medianAcknowledgeMinutes: figures.medianAcknowledge, p90AcknowledgeMinutes: figures.p90Acknowledge,
            medianExportMinutes: figures.medianExport, breaches: figures.breaches.acknowledge + figures.breaches.export, lostCameras: lost)
    }

    private func policeReport(_ id: UUID) -> PoliceReport {
        let holders = (byRequesterHolder[id] ?? [:]).filter(\.value.worked)
            .map { line($0.key, $0.value, lost: 0) }
            .sorted { ($0.tasks.received, $1.name) > ($1.tasks.received, $0.name) }
        return PoliceReport(
            requests: requestsByRequester[id] ?? RequestCounts(), requestsByBorough: requestsByBorough[id] ?? [], holders: holders,
            itemsCollected: itemsCollected[id] ?? 0, holdsExpiring: holdsExpiring[id] ?? 0, noCameraRequests: noCamera[id] ?? [],
            trend: trend(trendByRequester[id]))
    }

    private func londonReport() -> LondonReport {
        // Every borough, then every other holder that had anything that day.
        let boroughs = organisations.values.filter { $0.kind == .borough && $0.existed(before: end) }.map(\.id)
        let others = byHolder.filter { organisations[$0.key]?.kind != .borough && $0.value.worked }.keys
        let league = (boroughs + others).map { id in
            line(id, byHolder[id] ?? Figures(), lost: (alreadyOverwritten[id] ?? 0) + (overwrittenBeforeExport[id] ?? 0))
        }
        .sorted { ($0.gssCode ?? "~" + $0.name) < ($1.gssCode ?? "~" + $1.name) }
        var lost = LostFootage()
        lost.alreadyOverwritten = alreadyOverwritten.values.reduce(0, +)
        lost.overwrittenBeforeExport = overwrittenBeforeExport.values.reduce(0, +)
        let embedding = [true, false].map { embedded in
            let f = byEmbedded[embedded] ?? Figures()
            return EmbeddingComparison(
                embedded: embedded, rooms: roomsByEmbedded[embedded] ?? 0, tasks: f.tasks, acknowledgedWithinTarget: f.acknowledgedWithinTarget,
                medianAcknowledgeMinutes: f.medianAcknowledge, medianExportMinutes: f.medianExport)
        }
        return LondonReport(
            requests: requestsLondon, tasks: total.tasks, turnaround: turnaround(byPriority), breaches: total.breaches, lostFootage: lost,
            league: league, embedding: embedding, trend: trend(trendLondon), proposals: proposals,
            valueForMoney: valueForMoney.map(ReportValueForMoney.init))
    }
}
