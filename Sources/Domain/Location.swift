import Foundation

/// A point on the earth in WGS 84, as the API speaks it: `{"lat": 51.5136, "lon": -0.1365}`.
public struct Location: Sendable, Hashable, Codable {
    /// Latitude in degrees, -90 to 90.
    public var lat: Double
    /// Longitude in degrees, -180 to 180.
    public var lon: Double

    /// A location; check it with `problems(at:)`.
    public init(lat: Double, lon: Double) {
        self.lat = lat
        self.lon = lon
    }

    /// What is wrong with the coordinates, each named under `pointer` (`/location`).
    public func problems(at pointer: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if !(lat.isFinite && (-90...90).contains(lat)) {
            problems.append(.init(pointer: pointer + "/lat", detail: "must be a latitude from -90 to 90"))
        }
        if !(lon.isFinite && (-180...180).contains(lon)) {
            problems.append(.init(pointer: pointer + "/lon", detail: "must be a longitude from -180 to 180"))
        }
        return problems
    }
}

/// A circle to search in: `near=<lat>,<lon>&radius_m=<m>`.
public struct NearSearch: Sendable, Hashable {
    /// The centre.
    public var centre: Location
    /// The radius in metres, 1 to 50,000.
    public var radiusMetres: Double

    /// The largest radius a search may ask for.
    public static let maximumRadius = 50_000.0

    /// A search; `parse` checks what a client sends.
    public init(centre: Location, radiusMetres: Double) {
        self.centre = centre
        self.radiusMetres = radiusMetres
    }

    /// Parses the `near` and `radius_m` query parameters; both or neither must be given.
    public static func parse(near: String?, radiusMetres: Double?) throws(ValidationError) -> NearSearch? {
        guard let near else {
            if radiusMetres != nil { throw ValidationError([.init(parameter: "near", detail: "is required with radius_m")]) }
            return nil
        }
        let parts = near.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let lat = parts[0], let lon = parts[1] else {
            throw ValidationError([.init(parameter: "near", detail: "must be <lat>,<lon> in degrees, e.g. 51.5136,-0.1365")])
        }
        var problems = Location(lat: lat, lon: lon).problems(at: "").map { FieldProblem(parameter: "near", detail: $0.detail) }
        guard let radiusMetres else { throw ValidationError(problems + [.init(parameter: "radius_m", detail: "is required with near")]) }
        if !(radiusMetres.isFinite && radiusMetres >= 1 && radiusMetres <= maximumRadius) {
            problems.append(.init(parameter: "radius_m", detail: "must be from 1 to 50000 metres"))
        }
        guard problems.isEmpty else { throw ValidationError(problems) }
        return NearSearch(centre: Location(lat: lat, lon: lon), radiusMetres: radiusMetres)
    }
}

/// A box to search in: `bbox=<min_lon>,<min_lat>,<max_lon>,<max_lat>` (RFC 7946 order).
public struct BoundingBox: Sendable, Hashable {
    /// The south-west corner.
    public var minimum: Location
    /// The north-east corner.
    public var maximum: Location

    /// A box; `parse` checks what a client sends.
    public init(minimum: Location, maximum: Location) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Parses the `bbox` query parameter.
    public static func parse(_ text: String?) throws(ValidationError) -> BoundingBox? {
        guard let text else { return nil }
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == 4, let minLon = values[0], let minLat = values[1], let maxLon = values[2], let maxLat = values[3] else {
            throw ValidationError([.init(parameter: "bbox", detail: "must be <min_lon>,<min_lat>,<max_lon>,<max_lat> in degrees")])
        }
        let box = BoundingBox(minimum: Location(lat: minLat, lon: minLon), maximum: Location(lat: maxLat, lon: maxLon))
        var problems = (box.minimum.problems(at: "") + box.maximum.problems(at: "")).map { FieldProblem(parameter: "bbox", detail: $0.detail) }
        if problems.isEmpty && (minLon > maxLon || minLat > maxLat) {
            problems.append(.init(parameter: "bbox", detail: "must have its minimum longitude and latitude below its maximum"))
        }
        guard problems.isEmpty else { throw ValidationError(problems) }
        return box
    }
}

/// Checks for free text shared by every resource.
public enum TextRules {
    /// A problem if `text` is not 1 to `maximum` characters without control characters.
    public static func problem(_ text: String?, at pointer: String, maximum: Int, required: Bool = false) -> FieldProblem? {
        guard let text else { return required ? FieldProblem(pointer: pointer, detail: "is required") : nil }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || text.count > maximum {
            return FieldProblem(pointer: pointer, detail: "must be 1 to \(maximum) characters")
        }
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return FieldProblem(pointer: pointer, detail: "must not contain control characters")
        }
        return nil
    }
}
