import Foundation

/// RFC 4180 CSV with cells that a spreadsheet could run as formulas neutralised.
public enum CSV {
    /// One cell: free text (neutralised against formula injection) or a value we wrote ourselves (a number, a
    /// date, an id, an enumeration), which is never altered.
    public enum Cell: Sendable, Hashable {
        case text(String?)
        case value(String?)
    }

    /// The characters that make a spreadsheet treat a cell as a formula (OWASP, "CSV injection").
    static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    /// The cell as it goes into a line: neutralised if it is text that starts like a formula (a `'` before it),
    /// then quoted if it holds a comma, a quote or a line break.
    public static func encode(_ cell: Cell) -> String {
        var text: String
        switch cell {
        case .text(let value):
            text = value ?? ""
            if let first = text.first, formulaStarts.contains(first) { text = "'" + text }
        case .value(let value):
            text = value ?? ""
        }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A line: the cells joined by commas and ended by CRLF.
    public static func line(_ cells: [Cell]) -> String { cells.map(encode).joined(separator: ",") + "\r\n" }
}

/// A camera as a line of CSV or a GeoJSON feature, with the same fields in both.
public enum CameraExport {
    /// The CSV header line.
    public static let csvHeader = CSV.line(fields.map { .value($0) })

    static let fields = [
        "id", "owner_org_id", "control_room_id", "external_ref", "kind", "lat", "lon", "borough_gss", "heading_deg", "field_of_view_deg",
        "max_dori", "retention_days", "status", "commissioned_on", "decommissioned_on", "last_replaced_on", "condition", "public_space",
    ]

    /// The camera as one CSV line.
    public static func csvLine(_ camera: Camera) -> String {
        let d = camera.draft
        return CSV.line([
            .value(id(camera.id)), .value(id(camera.ownerOrganisationID)), .value(d.controlRoomID.map(id)), .text(d.externalRef),
            .value(d.kind.rawValue), .value(coordinate(d.location.lat)), .value(coordinate(d.location.lon)), .value(d.boroughGSS),
            .value(d.headingDeg.map(number)), .value(d.fieldOfViewDeg.map(number)), .value(d.maxDORI?.rawValue),
            .value(d.retentionDays.map(String.init)), .value(d.status.rawValue), .value(d.commissionedOn?.description),
            .value(d.decommissionedOn?.description), .value(d.lastReplacedOn?.description), .value(d.condition.map(String.init)),
            .value(String(d.publicSpace)),
        ])
    }

    /// What comes before the first feature of a FeatureCollection.
    public static let geoJSONPrefix = #"{"type":"FeatureCollection","features":["#
    /// What comes after the last feature.
    public static let geoJSONSuffix = "]}\n"

    /// The camera as one GeoJSON Point feature (RFC 7946: longitude first, at most 7 decimals).
    public static func geoJSONFeature(_ camera: Camera) -> String {
        let d = camera.draft
        let properties: [(String, String?)] = [
            ("owner_org_id", string(id(camera.ownerOrganisationID))), ("control_room_id", d.controlRoomID.map { string(id($0)) }),
            ("external_ref", d.externalRef.map(string)), ("kind", string(d.kind.rawValue)), ("borough_gss", d.boroughGSS.map(string)),
            ("heading_deg", d.headingDeg.map(number)), ("field_of_view_deg", d.fieldOfViewDeg.map(number)),
            ("max_dori", d.maxDORI.map { string($0.rawValue) }), ("retention_days", d.retentionDays.map(String.init)),
            ("status", string(d.status.rawValue)), ("commissioned_on", d.commissionedOn.map { string($0.description) }),
            ("decommissioned_on", d.decommissionedOn.map { string($0.description) }),
            ("last_replaced_on", d.lastReplacedOn.map { string($0.description) }), ("condition", d.condition.map(String.init)),
            ("public_space", String(d.publicSpace)),
        ]
        let body = properties.map { string($0.0) + ":" + ($0.1 ?? "null") }.joined(separator: ",")
        return #"{"type":"Feature","id":"# + string(id(camera.id)) + #","geometry":{"type":"Point","coordinates":["#
            + coordinate(d.location.lon) + "," + coordinate(d.location.lat) + #"]},"properties":{"# + body + "}}"
    }

    private static func id(_ value: UUID) -> String { value.uuidString.lowercased() }

    /// A coordinate with at most 7 decimals (about 1 cm) and no trailing zeros.
    static func coordinate(_ value: Double) -> String {
        let scaled = (value * 10_000_000).rounded()
        let negative = scaled < 0
        let magnitude = Int64(abs(scaled))
        var fraction = String(magnitude % 10_000_000)
        fraction = String(repeating: "0", count: 7 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let whole = String(magnitude / 10_000_000)
        return (negative && magnitude != 0 ? "-" : "") + whole + (fraction.isEmpty ? "" : "." + fraction)
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// A JSON string literal.
    static func string(_ text: String) -> String { JSONText.quoted(text) }
}

/// JSON text written by hand where an encoder would cost too much (a million exported cameras, every log line).
public enum JSONText {
    /// `text` as a JSON string literal, with control characters and the separators U+2028 and U+2029 escaped.
    public static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case let c where c.value < 0x20 || c == "\u{2028}" || c == "\u{2029}":
                let hex = String(c.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
