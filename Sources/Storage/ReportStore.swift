import Domain
import Foundation
import LibPQ

/// A stored report as lists show it: which report it is, not its content.
public struct StoredReport: Sendable, Hashable {
    public var id: UUID
    public var organisationID: UUID?
    public var kind: ReportKind
    public var reportDate: Day
    public var createdAt: Date
}

/// Why a report asked for by organisation cannot be built.
public enum ReportRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    case noSuchOrganisation
    /// MOPAC and the platform operator: MOPAC's report is the pan-London one.
    case noReportOfItsOwn(String)
    /// Added to Sightline after the day ended.
    case notYetAdded(String, addedAt: Date)

    public var description: String {
        switch self {
        case .noSuchOrganisation: "there is no such organisation"
        case .noReportOfItsOwn(let name): "\(name) has no report of its own: MOPAC's report is the pan-London one"
        case .notYetAdded(let name, let addedAt): "\(name) was added on \(addedAt.rfc3339), after that day ended: it has no report of it"
        }
    }
}

/// What one night's build did.
public struct ReportBuild: Sendable, Hashable {
    /// The reports it stored, and the ones already stored for that night (left as they were).
    public var created: [StoredReport]
    public var existing: Int
}

public struct ReportFilter: Sendable, Hashable {
    public var kind: ReportKind?
    public var from: Day?
    public var to: Day?

    public init(kind: ReportKind? = nil, from: Day? = nil, to: Day? = nil) {
        self.kind = kind
        self.from = from
        self.to = to
    }
}

/// The nightly reports (DESIGN §4.4): built for a London day from one consistent snapshot, stored once per
/// organisation, kind and date, announced by `report.ready` in the transaction that stores them.
public struct ReportStore: Sendable {
    private let database: Database
    private var clock: any WallClock { database.clock }

    /// A store over `database`, reading the time from its clock.
    public init(_ database: Database) { self.database = database }

    /// The job name under which built nights are recorded in `job_runs`.
    public static let jobName = "nightly-reports"

    // MARK: Building

    /// Builds and stores the reports of `day` (every organisation's and the pan-London one, or only
    /// `organisationID`'s) that are not stored yet, each with its `report.ready` event; with `recordRun`, records
    /// the night as built. Reports already stored are left as they were, so a rerun changes nothing.
    ///
    /// Returns `nil` when another instance is building reports at this moment (it holds the advisory lock), or when
    /// `recordRun` and the night is recorded as built already.
    public func build(day: Day, schedule: ReportSchedule, sla: EvidenceSLA, organisationID: UUID? = nil, recordRun: Bool) async throws
        -> ReportBuild?
    {
        let now = clock.now()
        return try await database.withConnection { connection in
            // A session lock, taken before the snapshot: whoever gets it second sees everything the first committed.
            let locked: Bool = try await connection.query("SELECT pg_try_advisory_lock(hashtext($1))", Self.jobName)[0].decode(0)
            guard locked else { return nil }
            do {
                let result = try await Self.buildLocked(
                    day: day, schedule: schedule, sla: sla, organisationID: organisationID, recordRun: recordRun, now: now, on: connection)
                _ = try await connection.query("SELECT pg_advisory_unlock(hashtext($1))", Self.jobName)
                return result
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(hashtext($1))", Self.jobName)
                throw error
            }
        }
    }

    /// Whether the night of `day` is recorded as built.
    public func isBuilt(_ day: Day) async throws -> Bool {
        try await database.withConnection { connection in
            !(try await connection.query("SELECT 1 FROM job_runs WHERE name = $1 AND period = $2", Self.jobName, day.description)).isEmpty
        }
    }

    private static func buildLocked(
        day: Day, schedule: ReportSchedule, sla: EvidenceSLA, organisationID: UUID?, recordRun: Bool, now: Date, on connection: PostgresConnection
    ) async throws -> ReportBuild? {
        try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ")
        do {
            if recordRun,
                !(try await connection.query("SELECT 1 FROM job_runs WHERE name = $1 AND period = $2", jobName, day.description)).isEmpty
            {
                try await connection.query("COMMIT")
                return nil
            }
            let end = schedule.interval(of: day).end
            let organisations = try await ReportBuilder.organisations(connection)
            if let organisationID {
                guard let organisation = organisations[organisationID] else { throw ReportRefusal.noSuchOrganisation }
                guard ReportKind.forOrganisation(organisation.kind) != nil else { throw ReportRefusal.noReportOfItsOwn(organisation.name) }
                guard organisation.existed(before: end) else {
                    throw ReportRefusal.notYetAdded(organisation.name, addedAt: organisation.createdAt)
                }
            }
            var wanted: [(UUID?, ReportKind)] = organisations.values
                .filter { $0.existed(before: end) && (organisationID == nil || $0.id == organisationID) }
                .compactMap { organisation in ReportKind.forOrganisation(organisation.kind).map { (organisation.id, $0) } }
            if organisationID == nil { wanted.append((nil, .london)) }
            let stored = Set(
                try await connection.query("SELECT organisation_id, kind FROM reports WHERE report_date = $1", PostgresDate(day)).map {
                    StoredKey(organisationID: try $0.decode(0), kind: try $0.decode(1))
                })
            let missing = wanted.filter { !stored.contains(StoredKey(organisationID: $0.0, kind: $0.1.rawValue)) }
            // The day's figures are read only when a report of it is missing.
            let builder =
                missing.isEmpty
                ? nil : try await ReportBuilder.load(day: day, schedule: schedule, sla: sla, now: now, organisations: organisations, on: connection)
            let mopac = organisations.values.filter { $0.kind == .mopac }.map(\.id)
            var created: [StoredReport] = []
            for (organisation, kind) in missing.sorted(by: { ($0.0?.uuidString ?? "") < ($1.0?.uuidString ?? "") }) {
                guard let report = builder?.report(kind: kind, organisationID: organisation) else { continue }
                let inserted = try await connection.query(
                    """
                    INSERT INTO reports (id, organisation_id, kind, report_date, content, created_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6)
                    ON CONFLICT DO NOTHING RETURNING id
                    """,
                    report.id, organisation, kind.rawValue, PostgresDate(day), try PostgresJSON(encoding: report, encoder: Report.encoder()), now
                )
                guard !inserted.isEmpty else { continue }
                created.append(StoredReport(id: report.id, organisationID: organisation, kind: kind, reportDate: day, createdAt: now))
                try await connection.append(
                    .reportReady(id: report.id, kind: kind, date: day, organisation: organisation, audience: organisation.map { [$0] } ?? mopac),
                    at: now)
            }
            if recordRun {
                try await connection.query(
                    "INSERT INTO job_runs (name, period, finished_at, detail) VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT DO NOTHING",
                    jobName, day.description, now, PostgresJSON(text: "{\"reports\": \(created.count)}"))
            }
            try await connection.query("COMMIT")
            return ReportBuild(created: created, existing: wanted.count - created.count)
        } catch {
            _ = try? await connection.query("ROLLBACK")
            throw error
        }
    }

    private struct StoredKey: Hashable {
        var organisationID: UUID?
        var kind: String
    }

    // MARK: Reading

    /// One page of the reports `reader` may read, newest date first.
    public func list(reader: ReportReader, filter: ReportFilter, page: PageRequest) async throws -> Page<StoredReport> {
        var after: (Day, UUID)?
        if let parts = page.cursor?.key {
            guard parts.count == 2, let day = Day(parts[0]), let id = UUID(uuidString: parts[1]) else {
                throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")])
            }
            after = (day, id)
        }
        return try await database.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT id, organisation_id, kind, report_date, created_at FROM reports
                WHERE (\(Self.readable))
                  AND ($3::text IS NULL OR kind = $3) AND ($4::date IS NULL OR report_date >= $4) AND ($5::date IS NULL OR report_date <= $5)
                  AND ($6::date IS NULL OR (report_date, id) < ($6, $7))
                ORDER BY report_date DESC, id DESC LIMIT $8
                """,
                reader.organisationID, reader.panLondon || reader.organisationID == nil, filter.kind?.rawValue, filter.from.map { PostgresDate($0) },
                filter.to.map { PostgresDate($0) }, after.map { PostgresDate($0.0) }, after?.1, page.limit + 1
            )
            return Page(fetched: try rows.map(StoredReport.init(row:)), limit: page.limit) {
                [$0.reportDate.description, $0.id.uuidString.lowercased()]
            }
        }
    }

    /// The report with `id` if `reader` may read it (otherwise `nil`, as if there were none).
    public func get(id: UUID, reader: ReportReader) async throws -> (StoredReport, Report)? {
        try await database.withConnection { connection in
            guard
                let row = try await connection.query(
                    "SELECT id, organisation_id, kind, report_date, created_at, content FROM reports WHERE id = $3 AND (\(Self.readable))",
                    reader.organisationID, reader.panLondon || reader.organisationID == nil, id
                ).first
            else { return nil }
            let content: PostgresJSON = try row.decode(5)
            return (try StoredReport(row: row), try Report.decoder().decode(Report.self, from: Data(content.text.utf8)))
        }
    }

    /// Readable by the organisation `$1` (every report when it is null) and, when `$2`, the pan-London reports.
    private static let readable = "$1::uuid IS NULL OR organisation_id = $1 OR ($2 AND kind = 'london')"

    /// Each borough's outline as an SVG path in a 1000-wide frame (x east, y south), for the reports' map.
    public func boroughOutlines() async throws -> BoroughOutlines {
        try await database.withConnection { connection in
            let extent = try await connection.query(
                """
                SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
                FROM (SELECT ST_Extent(ST_Transform(boundary, 27700)) AS e FROM borough_boundaries) x
                """)[0]
            let minX: Double = try extent.decode(0)
            let minY: Double = try extent.decode(1)
            let maxX: Double = try extent.decode(2)
            let maxY: Double = try extent.decode(3)
            let scale = 1000 / (maxX - minX)
            // British National Grid metres, simplified to 25 m, scaled into the frame; ST_AsSVG writes y negated.
            let rows = try await connection.query(
                """
                SELECT b.gss_code, b.name,
                       ST_AsSVG(ST_Scale(ST_Translate(ST_SimplifyPreserveTopology(ST_Transform(bb.boundary, 27700), 25), -$1, -$2), $3, $3), 0, 1)
                FROM borough_boundaries bb JOIN boroughs b ON b.gss_code = bb.gss_code ORDER BY b.gss_code
                """,
                minX, maxY, scale
            )
            return BoroughOutlines(
                width: 1000, height: Int(((maxY - minY) * scale).rounded(.up)),
                boroughs: try rows.map { BoroughOutlines.Borough(gssCode: try $0.decode(0), name: try $0.decode(1), path: try $0.decode(2)) })
        }
    }
}

extension StoredReport {
    init(row: PostgresRow) throws {
        id = try row.decode(0)
        organisationID = try row.decode(1)
        let kind: String = try row.decode(2)
        guard let parsed = ReportKind(rawValue: kind) else { throw StoredValueError(column: "reports.kind") }
        self.kind = parsed
        reportDate = try Day(row.decode(3, as: PostgresDate.self))
        createdAt = try row.decode(4)
    }
}
