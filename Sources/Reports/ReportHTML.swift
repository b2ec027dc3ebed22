import Domain
import Foundation

/// A report as one self-contained HTML page: inline CSS and inline SVG charts, a map of London's boroughs, and the
/// table of figures beside every chart. It loads nothing (its Content-Security-Policy forbids it), reads on a phone
/// and in print, and gives every chart a text alternative.
public enum ReportHTML {
    /// The page of `report`, with `outlines` for its map.
    public static func page(_ report: Report, outlines: BoroughOutlines) -> String {
        let tables = Dictionary(report.tables.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let title = "\(report.organisation?.name ?? "London") · \(kindTitle(report.kind)) · \(report.reportDate)"
        var body = """
            <header>
            <p class="brand">Sightline · nightly partner report</p>
            <h1>\(escape(report.organisation?.name ?? "London")): \(kindTitle(report.kind).prefix(1).lowercased() + kindTitle(report.kind).dropFirst()) for \(escape(longDate(report.reportDate)))</h1>
            <p>The London day \(report.reportDate) (\(escape(report.timeZone)), \(report.periodStart.rfc3339) to \(report.periodEnd.rfc3339)). \
            Built \(report.generatedAt.rfc3339). Times are in minutes; covert cameras are never counted.</p>
            </header>

            """
        if !report.activity {
            body +=
                "<p class=\"notice\" role=\"status\">No activity on this day: no task or request to count. The registry sections below still stand.</p>\n"
        }
        body += "<main>\n"
        body += section(tables["summary"]!, chart: outcomesChart(report))
        if let holder = report.holder {
            body += section(tables["turnaround"]!, chart: turnaroundChart(holder.turnaround))
            body += section(tables["trend"]!, chart: trendChart(holder.trend))
            let served = Set(holder.rooms.filter { $0.status == "active" }.flatMap(\.boroughsServed))
            body += section(
                tables["rooms"]!,
                chart: mapChart(
                    outlines, values: Dictionary(uniqueKeysWithValues: served.map { ($0, holder.medianAcknowledgeMinutes) }), scope: served,
                    caption: "The boroughs your rooms serve, shaded by your median minutes to acknowledge that day"))
            for name in ["cameras", "arrangements"] { body += section(tables[name]!, chart: nil) }
        }
        if let police = report.police {
            body += section(
                tables["holders"]!,
                chart: mapChart(
                    outlines,
                    values: Dictionary(police.holders.compactMap { line in line.gssCode.map { ($0, line.medianAcknowledgeMinutes) } }) { a, _ in a },
                    caption: "Median minutes each borough took to acknowledge your tasks that day"))
            body += section(tables["requests_by_borough"]!, chart: nil)
            body += section(tables["trend"]!, chart: trendChart(police.trend))
            body += section(tables["no_camera_requests"]!, chart: nil)
        }
        if let london = report.london {
            body += section(tables["turnaround"]!, chart: turnaroundChart(london.turnaround))
            body += section(
                tables["league"]!,
                chart: mapChart(
                    outlines,
                    values: Dictionary(london.league.compactMap { line in line.gssCode.map { ($0, line.medianAcknowledgeMinutes) } }) { a, _ in a },
                    caption: "Median minutes each borough took to acknowledge that day"))
            body += section(tables["embedding"]!, chart: nil)
            if let value = tables["value_for_money"] { body += section(value, chart: nil) }
            body += section(tables["trend"]!, chart: trendChart(london.trend))
            body += section(tables["proposals"]!, chart: nil)
        }
        body += """
            </main>
            <footer><p>Sightline · report \(report.id.uuidString.lowercased()). Borough boundaries: contains National Statistics data \
            © Crown copyright and database right 2015 and Ordnance Survey data © Crown copyright and database right 2015, under \
            the Open Government Licence v3.0.</p></footer>

            """
        return """
            <!doctype html>
            <html lang="en-GB">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <title>\(escape(title))</title>
            <style>\(style)</style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    static func kindTitle(_ kind: ReportKind) -> String {
        switch kind {
        case .holder: "Holder's report"
        case .police: "Police force's report"
        case .london: "Pan-London report"
        }
    }

    static func longDate(_ day: Day) -> String {
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        return "\(day.day) \(months[day.month - 1]) \(day.year)"
    }

    // MARK: Sections and tables

    private static func section(_ table: ReportTable, chart: String?) -> String {
        var html =
            "<section id=\"\(table.name)\" aria-labelledby=\"\(table.name)-title\">\n<h2 id=\"\(table.name)-title\">\(escape(table.title))</h2>\n"
        if let chart { html += chart }
        html += tableHTML(table)
        return html + "</section>\n"
    }

    private static func tableHTML(_ table: ReportTable) -> String {
        guard !table.rows.isEmpty else { return "<p class=\"empty\">None.</p>\n" }
        var html = "<div class=\"scroll\"><table data-section=\"\(table.name)\">\n<caption>\(escape(table.title))</caption>\n<thead><tr>"
        html += table.columns.map { "<th scope=\"col\">\(escape($0))</th>" }.joined()
        html += "</tr></thead>\n<tbody>\n"
        for row in table.rows {
            html += "<tr>"
            for (index, cell) in row.enumerated() {
                let field = cell.field.map { " data-field=\"\(escape($0))\"" } ?? ""
                let text = cell.text.isEmpty ? "<span aria-label=\"none\">—</span>" : escape(cell.text)
                html += index == 0 ? "<th scope=\"row\"\(field)>\(text)</th>" : "<td\(cell.isFigure ? " class=\"n\"" : "")\(field)>\(text)</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody>\n</table></div>\n"
    }

    // MARK: Charts

    /// A chart as an accessible figure: the SVG is an image with a title and a description; the table after it
    /// carries the same figures.
    private static func figure(id: String, title: String, description: String, width: Int, height: Int, _ content: String) -> String {
        """
        <figure class="\(id)">
        <svg role="img" aria-labelledby="\(id)-t \(id)-d" viewBox="0 0 \(width) \(height)" preserveAspectRatio="xMidYMid meet">
        <title id="\(id)-t">\(escape(title))</title>
        <desc id="\(id)-d">\(escape(description))</desc>
        \(content)</svg>
        <figcaption>\(escape(title))</figcaption>
        </figure>

        """
    }

    /// What became of the day's tasks, as horizontal bars.
    private static func outcomesChart(_ report: Report) -> String? {
        // A force's tasks are the sum of its holders' lines.
        guard let counts = report.holder?.tasks ?? report.london?.tasks ?? report.police.map({ $0.holders.map(\.tasks).reduce(TaskCounts(), +) })
        else { return nil }
        let bars: [(String, Int, String)] = [
            ("Received", counts.received, "#1d4f91"), ("Acknowledged", counts.acknowledged, "#2a7ab0"), ("Exported", counts.exported, "#1b7a3d"),
            ("Collected", counts.collected, "#2f6f4f"), ("No footage", counts.noFootage, "#8a5a00"), ("Rejected", counts.rejected, "#a1262c"),
            ("Cancelled", counts.cancelled, "#5c5c5c"),
        ]
        let largest = max(1, bars.map(\.1).max() ?? 1)
        var svg = ""
        for (index, bar) in bars.enumerated() {
            let y = 10 + index * 30
            let width = Double(bar.1) / Double(largest) * 440
            svg += "<text x=\"0\" y=\"\(y + 15)\" class=\"label\">\(bar.0)</text>"
            svg += "<rect x=\"130\" y=\"\(y)\" width=\"\(format(width))\" height=\"20\" fill=\"\(bar.2)\"/>"
            svg += "<text x=\"\(format(136 + width))\" y=\"\(y + 15)\" class=\"value\">\(bar.1)</text>\n"
        }
        let description = bars.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        return figure(
            id: "outcomes", title: "What became of the tasks that day", description: description + ".", width: 640, height: 20 + bars.count * 30, svg)
    }

    /// Each step's median and 90th percentile as a share of its deadline: a bar past the line missed it.
    private static func turnaroundChart(_ turnaround: [Turnaround]) -> String {
        var svg = "<line x1=\"370\" y1=\"0\" x2=\"370\" y2=\"\(20 + turnaround.count * 44)\" class=\"target\"/>"
        svg += "<text x=\"374\" y=\"12\" class=\"label\">deadline</text>\n"
        var description: [String] = []
        for (index, row) in turnaround.enumerated() {
            let y = 20 + index * 44
            let label = "\(row.step == .acknowledge ? "Acknowledge" : "Export"), \(row.priority.rawValue)"
            svg += "<text x=\"0\" y=\"\(y + 14)\" class=\"label\">\(label)</text>"
            if let median = row.medianMinutes, let p90 = row.p90Minutes {
                let target = Double(max(row.targetMinutes, 1))
                let medianWidth = min(median / target, 1.8) * 200
                let p90Width = min(p90 / target, 1.8) * 200
                svg += "<rect x=\"170\" y=\"\(y)\" width=\"\(format(p90Width))\" height=\"18\" fill=\"#9fbfdf\"/>"
                svg += "<rect x=\"170\" y=\"\(y)\" width=\"\(format(medianWidth))\" height=\"18\" fill=\"#1d4f91\"/>"
                svg +=
                    "<text x=\"\(format(176 + max(medianWidth, p90Width)))\" y=\"\(y + 14)\" class=\"value\">\(ReportTable.decimal(median)) / \(ReportTable.decimal(p90)) min</text>\n"
                description.append(
                    "\(label): median \(ReportTable.decimal(median)), 90th percentile \(ReportTable.decimal(p90)) of a \(row.targetMinutes)-minute deadline"
                )
            } else {
                svg += "<text x=\"176\" y=\"\(y + 14)\" class=\"value\">none that day</text>\n"
                description.append("\(label): none that day")
            }
        }
        return figure(
            id: "turnaround-chart", title: "Median (dark) and 90th percentile (light) against each deadline (the line)",
            description: description.joined(separator: "; ") + ".", width: 720, height: 30 + turnaround.count * 44, svg)
    }

    /// Tasks received and acknowledged each of the 30 days, as bars and a line.
    private static func trendChart(_ trend: [TrendDay]) -> String {
        let largest = max(1, trend.map { max($0.received, $0.acknowledged) }.max() ?? 1)
        let height = 180.0
        let step = 600.0 / Double(max(trend.count, 1))
        var svg = "<line x1=\"30\" y1=\"\(format(height))\" x2=\"630\" y2=\"\(format(height))\" class=\"axis\"/>"
        svg += "<text x=\"0\" y=\"12\" class=\"label\">\(largest)</text><text x=\"0\" y=\"\(format(height))\" class=\"label\">0</text>\n"
        var points: [String] = []
        for (index, day) in trend.enumerated() {
            let x = 30 + Double(index) * step
            let barHeight = Double(day.received) / Double(largest) * (height - 10)
            svg +=
                "<rect x=\"\(format(x + 1))\" y=\"\(format(height - barHeight))\" width=\"\(format(max(step - 2, 1)))\" height=\"\(format(barHeight))\" fill=\"#9fbfdf\"><title>\(day.date): \(day.received) received, \(day.acknowledged) acknowledged</title></rect>"
            points.append("\(format(x + step / 2)),\(format(height - Double(day.acknowledged) / Double(largest) * (height - 10)))")
        }
        svg += "\n<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#1d4f91\" stroke-width=\"2.5\"/>\n"
        if let first = trend.first, let last = trend.last {
            svg += "<text x=\"30\" y=\"\(format(height + 16))\" class=\"label\">\(first.date)</text>"
            svg += "<text x=\"630\" y=\"\(format(height + 16))\" class=\"label\" text-anchor=\"end\">\(last.date)</text>\n"
        }
        let received = trend.map(\.received).reduce(0, +)
        let acknowledged = trend.map(\.acknowledged).reduce(0, +)
        return figure(
            id: "trend-chart", title: "Tasks received (bars) and acknowledged (line) each day, last 30 days",
            description: "Over the 30 days \(received) tasks were received and \(acknowledged) acknowledged; the busiest day had \(largest).",
            width: 640, height: Int(height) + 24, svg)
    }

    /// The boroughs shaded by a figure in minutes: darker is slower; a borough without a figure is hatched grey.
    /// `scope`: the boroughs the figure is about (every borough when `nil`); the others are drawn plain.
    private static func mapChart(_ outlines: BoroughOutlines, values: [String: Double?], scope: Set<String>? = nil, caption: String) -> String {
        let bands: [(limit: Double, label: String, colour: String)] = [
            (15, "15 min or less", "#deebf7"), (60, "up to 1 hour", "#9ecae1"), (240, "up to 4 hours", "#4292c6"), (1440, "up to a day", "#2171b5"),
            (.infinity, "over a day", "#08306b"),
        ]
        func colour(_ value: Double?, inScope: Bool) -> String {
            guard inScope else { return "#e4e4e4" }
            guard let value else { return "url(#no-figure)" }
            return bands.first { value <= $0.limit }?.colour ?? bands.last!.colour
        }
        var svg = """
            <defs><pattern id="no-figure" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">\
            <rect width="8" height="8" fill="#f2f2f2"/><line x1="0" y1="0" x2="0" y2="8" stroke="#bdbdbd" stroke-width="3"/></pattern></defs>

            """
        var described: [String] = []
        for borough in outlines.boroughs {
            let value = values[borough.gssCode] ?? nil
            let inScope = scope?.contains(borough.gssCode) ?? true
            let text = inScope ? value.map { "\(ReportTable.decimal($0)) minutes" } ?? "no figure" : "not served"
            svg +=
                "<path d=\"\(borough.path)\" fill=\"\(colour(value, inScope: inScope))\" stroke=\"#ffffff\" stroke-width=\"1.5\" data-gss=\"\(borough.gssCode)\"><title>\(escape(borough.name)): \(text)</title></path>\n"
            if let value { described.append("\(borough.name) \(ReportTable.decimal(value))") }
        }
        let legendY = outlines.height + 10
        for (index, band) in bands.enumerated() {
            svg += "<rect x=\"\(index * 170)\" y=\"\(legendY)\" width=\"18\" height=\"18\" fill=\"\(band.colour)\" stroke=\"#555\"/>"
            svg += "<text x=\"\(index * 170 + 24)\" y=\"\(legendY + 14)\" class=\"label\">\(band.label)</text>"
        }
        svg += "<rect x=\"\(bands.count * 170)\" y=\"\(legendY)\" width=\"18\" height=\"18\" fill=\"url(#no-figure)\" stroke=\"#555\"/>"
        svg += "<text x=\"\(bands.count * 170 + 24)\" y=\"\(legendY + 14)\" class=\"label\">no figure</text>\n"
        if scope != nil {
            svg += "<rect x=\"\((bands.count + 1) * 170)\" y=\"\(legendY)\" width=\"18\" height=\"18\" fill=\"#e4e4e4\" stroke=\"#555\"/>"
            svg += "<text x=\"\((bands.count + 1) * 170 + 24)\" y=\"\(legendY + 14)\" class=\"label\">not served</text>\n"
        }
        let description = described.isEmpty ? "No borough has a figure that day." : "Median minutes: " + described.joined(separator: ", ") + "."
        return figure(
            id: "map", title: "London's boroughs: " + caption, description: description,
            width: max(outlines.width, (bands.count + (scope == nil ? 0 : 1)) * 170 + 120),
            height: legendY + 30, svg)
    }

    // MARK: Text

    private static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    /// `text` safe inside HTML text and double-quoted attributes.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    private static let style = """
        :root{color:#1a1a1a;background:#fff;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
        body{margin:0 auto;max-width:72rem;padding:1rem}
        h1{font-size:1.6rem;margin:.2rem 0 .5rem}h2{font-size:1.25rem;margin:2rem 0 .5rem;border-bottom:2px solid #1d4f91;padding-bottom:.2rem}
        .brand{color:#1d4f91;font-weight:600;margin:0}
        .notice{background:#fff4ce;border-left:4px solid #8a5a00;padding:.6rem .8rem}
        figure{margin:0 0 1rem}figcaption{font-size:.9rem;color:#444}
        svg{width:100%;max-width:42rem;height:auto;display:block}figure.map svg{max-width:60rem}
        svg .label{font-size:13px;fill:#1a1a1a}svg .value{font-size:13px;fill:#1a1a1a}
        svg .target{stroke:#a1262c;stroke-width:2;stroke-dasharray:4 3}svg .axis{stroke:#555}
        .scroll{overflow-x:auto}
        table{border-collapse:collapse;font-size:.92rem;min-width:50%}
        caption{text-align:left;font-weight:600;padding:.3rem 0}
        th,td{border:1px solid #c8c8c8;padding:.3rem .5rem;text-align:left;vertical-align:top}
        thead th{background:#eef3f9}td.n{text-align:right;font-variant-numeric:tabular-nums}
        .empty{color:#444}footer{margin-top:2rem;font-size:.85rem;color:#444}
        @media (max-width:40rem){body{padding:.5rem}h1{font-size:1.3rem}table{font-size:.85rem}}
        @media print{body{max-width:none;padding:0}section{break-inside:avoid}.scroll{overflow:visible}a{color:inherit}}
        """
}
