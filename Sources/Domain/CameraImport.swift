import Foundation

/// Bulk registration of cameras from CSV (RFC 4180, a header row) or GeoJSON (RFC 7946, a FeatureCollection of
/// Points): every row is read and checked, and the whole file is refused with every problem listed (row number
/// or feature index, field, reason) unless all of it is good.
public enum CameraImport {
    /// The most cameras one import may hold.
    public static let maximumRows = 10_000
    /// The largest file an import accepts.
    public static let maximumBytes = 16 << 20

    /// One camera read from the file, with where it was.
    public struct Row: Sendable, Hashable {
        /// Where problems with it are reported: `/rows/<n>` (CSV records numbered as a spreadsheet numbers rows,
        /// the header being 1) or `/features/<i>`.
        public var pointer: String
        public var draft: CameraDraft
    }

    /// The columns (or GeoJSON properties) an import reads; `id` and `owner_org_id` (as an export writes them) are
    /// accepted and ignored, so that an export can be imported elsewhere.
    static let columns: Set<String> = [
        "external_ref", "kind", "lat", "lon", "borough_gss", "heading_deg", "field_of_view_deg", "max_dori", "retention_days", "status",
        "commissioned_on", "decommissioned_on", "last_replaced_on", "condition", "public_space", "covert", "control_room_id",
    ]
    static let ignored: Set<String> = ["id", "owner_org_id"]

    /// Reads a CSV file.
    public static func parseCSV(_ data: Data) throws(ValidationError) -> [Row] {
        let records = try CSVReader.records(data)
        guard let header = records.first else {
            throw ValidationError([.init(pointer: "/rows/1", detail: "the file is empty: a header row is required")])
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var problems: [FieldProblem] = []
        for name in names where !columns.contains(name) && !ignored.contains(name) {
            problems.append(.init(pointer: "/rows/1/" + name, detail: "is not a column an import reads"))
        }
        for required in ["kind", "lat", "lon"] where !names.contains(required) {
            problems.append(.init(pointer: "/rows/1/" + required, detail: "is a required column"))
        }
        if Set(names).count != names.count { problems.append(.init(pointer: "/rows/1", detail: "names a column twice")) }
        guard problems.isEmpty else { throw ValidationError(problems) }
        let data = records.dropFirst()
        try checkCount(data.count, pointer: "/rows")
        var rows: [Row] = []
        for record in data {
            let pointer = "/rows/" + String(record.number)
            guard record.fields.count == names.count else {
                problems.append(.init(pointer: pointer, detail: "has \(record.fields.count) cells; the header has \(names.count)"))
                continue
            }
            var values: [String: String] = [:]
            for (name, value) in zip(names, record.fields) where !value.isEmpty { values[name] = value }
            switch draft(values, pointer: pointer, locationPointer: pointer) {
            case .success(let draft): rows.append(Row(pointer: pointer, draft: draft))
            case .failure(let error): problems += error.problems
            }
        }
        guard problems.isEmpty else { throw ValidationError(problems) }
        return rows
    }

    /// Reads a GeoJSON FeatureCollection of Points.
    public static func parseGeoJSON(_ data: Data) throws(ValidationError) -> [Row] {
        let collection: GeoJSON.FeatureCollection
        do {
            collection = try JSONDecoder().decode(GeoJSON.FeatureCollection.self, from: data)
        } catch let error as DecodingError {
            throw ValidationError([.init(pointer: MergePatch.pointer(of: error), detail: "is not a GeoJSON FeatureCollection of Points here")])
        } catch {
            throw ValidationError([.init(pointer: "", detail: "is not JSON")])
        }
        guard collection.type == "FeatureCollection" else {
            throw ValidationError([.init(pointer: "/type", detail: "must be FeatureCollection")])
        }
        try checkCount(collection.features.count, pointer: "/features")
        var rows: [Row] = []
        var problems: [FieldProblem] = []
        for (index, feature) in collection.features.enumerated() {
            let pointer = "/features/" + String(index)
            guard feature.type == "Feature" else {
                problems.append(.init(pointer: pointer + "/type", detail: "must be Feature"))
                continue
            }
            guard let geometry = feature.geometry, geometry.type == "Point", let coordinates = geometry.coordinates?.point,
                (2...3).contains(coordinates.count)
            else {
                problems.append(.init(pointer: pointer + "/geometry", detail: "must be a Point with [longitude, latitude] coordinates"))
                continue
            }
            var values = ["lon": String(coordinates[0]), "lat": String(coordinates[1])]
            for (name, value) in feature.properties ?? [:] {
                guard columns.contains(name), !["lat", "lon"].contains(name) else {
                    if !ignored.contains(name) {
                        problems.append(.init(pointer: pointer + "/properties/" + name, detail: "is not a property an import reads"))
                    }
                    continue
                }
                if let text = value.text { values[name] = text }
            }
            switch draft(values, pointer: pointer + "/properties", locationPointer: pointer + "/geometry/coordinates") {
            case .success(let draft): rows.append(Row(pointer: pointer, draft: draft))
            case .failure(let error): problems += error.problems
            }
        }
        guard problems.isEmpty else { throw ValidationError(problems) }
        return rows
    }

    private static func checkCount(_ count: Int, pointer: String) throws(ValidationError) {
        if count == 0 { throw ValidationError([.init(pointer: pointer, detail: "holds no cameras")]) }
        if count > maximumRows {
            throw ValidationError([.init(pointer: pointer, detail: "holds \(count) cameras; an import takes at most \(maximumRows)")])
        }
    }

    /// A draft from one row's values, or every problem with them (each under `pointer`; the coordinates' under
    /// `locationPointer`, as `lat` and `lon`).
    static func draft(_ values: [String: String], pointer: String, locationPointer: String) -> Result<CameraDraft, ValidationError> {
        var problems: [FieldProblem] = []
        func problem(_ field: String, _ detail: String) { problems.append(.init(pointer: pointer + "/" + field, detail: detail)) }
        func number(_ field: String) -> Double? {
            guard let text = values[field] else { return nil }
            guard let value = Double(text), value.isFinite else {
                problem(field, "must be a number")
                return nil
            }
            return value
        }
        func integer(_ field: String) -> Int? {
            guard let text = values[field] else { return nil }
            guard let value = Int(text) else {
                problem(field, "must be a whole number")
                return nil
            }
            return value
        }
        func day(_ field: String) -> Day? {
            guard let text = values[field] else { return nil }
            guard let value = Day(text) else {
                problem(field, "must be a date, YYYY-MM-DD")
                return nil
            }
            return value
        }
        func flag(_ field: String) -> Bool? {
            guard let text = values[field]?.lowercased() else { return nil }
            guard let value = ["true": true, "false": false, "yes": true, "no": false, "1": true, "0": false][text] else {
                problem(field, "must be true or false")
                return nil
            }
            return value
        }
        func choice<T: RawRepresentable>(_ field: String, _ type: T.Type) -> T? where T.RawValue == String {
            guard let text = values[field] else { return nil }
            guard let value = T(rawValue: text) else {
                problem(field, "is not one of the allowed values")
                return nil
            }
            return value
        }
        let kind = choice("kind", CameraKind.self)
        if values["kind"] == nil { problem("kind", "is required") }
        let lat = number("lat")
        let lon = number("lon")
        if values["lat"] == nil { problem("lat", "is required") }
        if values["lon"] == nil { problem("lon", "is required") }
        var room: UUID?
        if let text = values["control_room_id"] {
            room = UUID(uuidString: text)
            if room == nil { problem("control_room_id", "must be a UUID") }
        }
        let draft = CameraDraft(
            controlRoomID: room, externalRef: values["external_ref"], kind: kind ?? .other, location: Location(lat: lat ?? 0, lon: lon ?? 0),
            boroughGSS: values["borough_gss"], headingDeg: number("heading_deg"), fieldOfViewDeg: number("field_of_view_deg"),
            maxDORI: choice("max_dori", DORI.self), retentionDays: integer("retention_days"),
            status: choice("status", CameraStatus.self) ?? .operational, commissionedOn: day("commissioned_on"),
            decommissionedOn: day("decommissioned_on"), lastReplacedOn: day("last_replaced_on"), condition: integer("condition"),
            publicSpace: flag("public_space") ?? true, covert: flag("covert") ?? false
        )
        guard problems.isEmpty else { return .failure(ValidationError(problems)) }
        do {
            try draft.validate()
        } catch {
            return .failure(
                ValidationError(
                    error.problems.map { problem in
                        problem.pointer.hasPrefix("/location/")
                            ? FieldProblem(pointer: locationPointer + "/" + problem.pointer.dropFirst("/location/".count), detail: problem.detail)
                            : FieldProblem(pointer: pointer + problem.pointer, detail: problem.detail)
                    }))
        }
        return .success(draft)
    }
}

/// An RFC 4180 reader: fields separated by commas, records by CRLF (or LF), fields with commas, quotes or line
/// breaks quoted, quotes inside doubled.
enum CSVReader {
    struct Record {
        /// 1 for the first record (the header).
        var number: Int
        var fields: [String]
    }

    static func records(_ data: Data) throws(ValidationError) -> [Record] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw ValidationError([.init(pointer: "", detail: "is not UTF-8 text")])
        }
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var afterQuote = false
        var fieldStarted = false
        var number = 1
        func endField() {
            fields.append(field)
            field = ""
            afterQuote = false
            fieldStarted = false
        }
        func endRecord() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(number: number, fields: fields)) }
            fields = []
            number += 1
        }
        var scalars = text.unicodeScalars.makeIterator()
        if text.unicodeScalars.first == "\u{FEFF}" { _ = scalars.next() }  // A byte-order mark, as spreadsheets write.
        while let scalar = scalars.next() {
            if quoted {
                if scalar == "\"" {
                    quoted = false
                    afterQuote = true
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"":
                if afterQuote {
                    field.append("\"")
                    quoted = true
                    afterQuote = false
                } else if !fieldStarted {
                    quoted = true
                    fieldStarted = true
                } else {
                    throw ValidationError([
                        .init(pointer: "/rows/\(number)", detail: "has a quote inside an unquoted cell (RFC 4180 quotes the whole cell)")
                    ])
                }
            case ",":
                endField()
            case "\r":
                continue
            case "\n":
                endRecord()
            default:
                if afterQuote {
                    throw ValidationError([.init(pointer: "/rows/\(number)", detail: "has text after a closing quote")])
                }
                fieldStarted = true
                field.unicodeScalars.append(scalar)
            }
        }
        if quoted { throw ValidationError([.init(pointer: "/rows/\(number)", detail: "has a quoted cell that is never closed")]) }
        if fieldStarted || !fields.isEmpty || afterQuote { endRecord() }
        return records
    }
}

/// The parts of RFC 7946 an import reads.
enum GeoJSON {
    struct FeatureCollection: Decodable {
        var type: String
        var features: [Feature]
    }

    struct Feature: Decodable {
        var type: String
        var geometry: Geometry?
        var properties: [String: Scalar]?
    }

    struct Geometry: Decodable {
        var type: String
        var coordinates: Coordinates?
    }

    /// A Point's numbers; any other geometry's nested arrays are read as `nil`, and refused.
    struct Coordinates: Decodable {
        var point: [Double]?

        init(from decoder: any Decoder) throws {
            point = try? decoder.singleValueContainer().decode([Double].self)
        }
    }

    /// A property value: text, a number or a boolean (as text for the row reader), or null.
    struct Scalar: Decodable {
        var text: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                text = nil
            } else if let flag = try? container.decode(Bool.self) {
                text = flag ? "true" : "false"
            } else if let number = try? container.decode(Int.self) {
                text = String(number)
            } else if let number = try? container.decode(Double.self) {
                text = String(number)
            } else {
                text = try container.decode(String.self)
            }
        }
    }
}
