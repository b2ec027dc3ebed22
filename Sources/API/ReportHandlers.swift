import Domain
import Foundation
import HTTPTypes
import OpenAPIRuntime
import Reports
import Storage
import Synchronization

/// `/v1/reports`.
extension SightlineAPI {
    func listReports(_ input: Operations.ListReports.Input) async throws -> Operations.ListReports.Output {
        let caller = try Caller.required()
        let query = input.query
        var collector = ProblemCollector()
        let page = collector.attempt { () throws(ValidationError) in try PageRequest(limit: query.limit.map(Int.init), cursor: query.cursor) }
        let from = collector.attempt { () throws(ValidationError) in try Day.parse(query.from, at: "#/parameters/from") }
        let to = collector.attempt { () throws(ValidationError) in try Day.parse(query.to, at: "#/parameters/to") }
        try collector.check()
        guard let page else { throw Problem.malformedBody("The query could not be read.") }
        if let from = from ?? nil, let to = to ?? nil, to < from {
            throw ValidationError([.init(parameter: "to", detail: "must not be before from (\(from))")])
        }
        let filter = ReportFilter(kind: query.kind.flatMap { ReportKind(rawValue: $0.rawValue) }, from: from ?? nil, to: to ?? nil)
        let result = try await reports.list(reader: ReportReader(caller), filter: filter, page: page)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.ReportSummary.init), nextCursor: result.nextCursor?.encoded))))
    }

    func getReport(_ input: Operations.GetReport.Input) async throws -> Operations.GetReport.Output {
        let caller = try Caller.required()
        // `ReportFormatMiddleware` has settled the format and left it as the only `Accept`.
        let format = try ReportFormat.negotiate(
            format: input.query.format?.rawValue, section: input.query.section, accept: input.headers.accept.map(\.rawValue).joined(separator: ","))
        let (_, report) = try await found(input.path.id) { id in try await reports.get(id: id, reader: ReportReader(caller)) }
        let stem = ReportCSV.fileStem(report)
        switch format {
        case .json:
            // The stored document, read into the contract's type: a field the contract lacks fails here, not at a partner.
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let body = try decoder.decode(Components.Schemas.Report.self, from: try Report.encoder().encode(report))
            return .ok(.init(headers: .init(contentDisposition: nil), body: .json(body)))
        case .csv:
            let tables = report.tables
            guard let section = input.query.section, let table = tables.first(where: { $0.name == section }) else {
                throw ValidationError([
                    .init(parameter: "section", detail: "must be one of this report's sections: " + tables.map(\.name).joined(separator: ", "))
                ])
            }
            return .ok(
                .init(
                    headers: .init(contentDisposition: "attachment; filename=\"\(stem)-\(table.name).csv\""),
                    body: .csv(HTTPBody(ReportCSV.csv(table)))))
        case .zip:
            return .ok(
                .init(
                    headers: .init(contentDisposition: "attachment; filename=\"\(stem).zip\""), body: .applicationZip(HTTPBody(ReportCSV.zip(report)))
                ))
        case .html:
            let outlines = try await reportMap.outlines { try await reports.boroughOutlines() }
            return .ok(
                .init(
                    headers: .init(contentDisposition: "inline; filename=\"\(stem).html\""),
                    body: .html(HTTPBody(ReportHTML.page(report, outlines: outlines)))))
        }
    }
}

extension Components.Schemas.ReportSummary {
    init(_ stored: StoredReport) {
        self.init(
            id: stored.id.uuidString.lowercased(), kind: .init(rawValue: stored.kind.rawValue)!, reportDate: stored.reportDate.description,
            organisationId: stored.organisationID?.uuidString.lowercased(), createdAt: stored.createdAt)
    }
}

/// The borough outlines of the reports' map, read from the database once per process (they change only with a
/// migration).
final class ReportMapCache: Sendable {
    private let cached = Mutex<BoroughOutlines?>(nil)

    init() {}

    func outlines(_ load: () async throws -> BoroughOutlines) async throws -> BoroughOutlines {
        if let outlines = cached.withLock({ $0 }) { return outlines }
        let outlines = try await load()
        cached.withLock { $0 = outlines }
        return outlines
    }
}

/// The forms a report is served in.
enum ReportFormat: String, CaseIterable {
    case json, csv, zip, html

    var mediaType: String {
        switch self {
        case .json: "application/json"
        case .csv: "text/csv"
        case .zip: "application/zip"
        case .html: "text/html"
        }
    }

    /// The format of a request: `format=` when given (`csv` is the ZIP of every section, or with `section=` that one
    /// section), else the first acceptable by `Accept` in order of preference (a `section=` prefers CSV), else a 406
    /// problem naming what it gives.
    static func negotiate(format: String?, section: String?, accept: String?) throws -> ReportFormat {
        if let format {
            switch format {
            case "json": return .json
            case "html": return .html
            case "csv": return section == nil ? .zip : .csv
            default: throw Problem.notAcceptable("A report is given as format=json, csv or html.")
            }
        }
        let preferred: [ReportFormat] = section == nil ? [.json, .html, .zip] : [.csv]
        guard let accept, !accept.trimmingCharacters(in: .whitespaces).isEmpty else { return preferred[0] }
        var ranges: [(type: String, quality: Double, order: Int)] = []
        for (order, part) in accept.split(separator: ",").enumerated() {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let type = pieces.first, !type.isEmpty else { continue }
            let quality = pieces.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            if quality > 0 { ranges.append((type, quality, order)) }
        }
        ranges.sort { ($0.quality, -$0.order) > ($1.quality, -$1.order) }
        for range in ranges {
            if range.type == "*/*" { return preferred[0] }
            // `text/csv` without a section: the sections come together as a ZIP.
            let candidates = section == nil && range.type == "text/csv" ? [] : preferred
            if let exact = candidates.first(where: { $0.mediaType == range.type }) { return exact }
            if range.type.hasSuffix("/*"), let match = candidates.first(where: { $0.mediaType.hasPrefix(String(range.type.dropLast())) }) {
                return match
            }
        }
        throw Problem.notAcceptable(
            section == nil
                ? "A report is given as application/json, text/html or application/zip (every CSV section); text/csv needs section=."
                : "A report's section is given as text/csv.")
    }
}

/// Settles the format of `getReport` before the generated code checks `Accept` against the body it is given: the
/// format (from `format=`, `section=` and `Accept`) becomes the only `Accept`, or the request ends in 406. An HTML
/// report is also sent with a Content-Security-Policy that lets it load nothing, and the file name goes out as
/// written.
struct ReportFormatMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard operationID == "getReport" else { return try await next(request, body, metadata) }
        let query = URLComponents(string: request.path ?? "")?.queryItems ?? []
        let format = try ReportFormat.negotiate(
            format: query.first { $0.name == "format" }?.value, section: query.first { $0.name == "section" }?.value,
            accept: request.headerFields[values: .accept].joined(separator: ","))
        var forwarded = request
        forwarded.headerFields[.accept] = format.mediaType
        var (response, responseBody) = try await next(forwarded, body, metadata)
        // The generated code percent-encodes header values as URI parts; Content-Disposition is sent as written.
        if let disposition = response.headerFields[.contentDisposition] {
            response.headerFields[.contentDisposition] = disposition.removingPercentEncoding ?? disposition
        }
        if response.status == .ok, format == .html {
            response.headerFields[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        }
        return (response, responseBody)
    }
}
