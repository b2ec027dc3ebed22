import Foundation

/// Who a holder calls about a request: the officer or investigator handling it.
public struct RequesterContact: Sendable, Hashable {
    public var name: String
    /// Their role or rank, e.g. `DC` or `ASB officer`.
    public var role: String?
    public var email: String?
    public var phone: String?

    /// A contact from its parts.
    public init(name: String, role: String? = nil, email: String? = nil, phone: String? = nil) {
        self.name = name
        self.role = role
        self.email = email
        self.phone = phone
    }

    /// What is wrong with the contact, each named under `pointer` (`/requester_contact`): a name, and an email
    /// address or a telephone number to reach them by.
    public func problems(at pointer: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        for (text, field, maximum, required) in [(name, "name", 200, true), (role, "role", 100, false)] as [(String?, String, Int, Bool)] {
            if let problem = TextRules.problem(text, at: pointer + "/" + field, maximum: maximum, required: required) { problems.append(problem) }
        }
        if let email, !Self.isEmail(email) {
            problems.append(.init(pointer: pointer + "/email", detail: "must be an email address, like name@example.police.uk"))
        }
        if let phone, !Self.isPhone(phone) {
            problems.append(
                .init(
                    pointer: pointer + "/phone", detail: "must be a telephone number: 7 to 15 digits, with spaces, hyphens, brackets or a leading +"))
        }
        if email == nil && phone == nil {
            problems.append(.init(pointer: pointer, detail: "must give an email or a phone number to reach the contact by"))
        }
        return problems
    }

    /// One `@`, something before it, a dotted domain after it, no spaces; at most 254 characters.
    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard text.count <= 254, parts.count == 2, !parts[0].isEmpty, !text.contains(where: \.isWhitespace) else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } }
    }

    /// 7 to 15 digits (E.164 allows 15), optionally a leading `+`, with spaces, hyphens and brackets between.
    static func isPhone(_ text: String) -> Bool {
        let body = text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        let digits = body.filter(\.isASCII).filter(\.isNumber).count
        return (7...15).contains(digits) && body.allSatisfy { ($0.isASCII && $0.isNumber) || " -()".contains($0) }
    }
}

/// What a holder needs to act on a task without phoning anyone: the request as the requester made it, but for
/// the cameras it named (which may be another holder's, or covert).
public struct EvidenceBrief: Sendable, Hashable {
    /// The request, without the cameras it named.
    public let request: EvidenceRequestDraft

    /// The brief of a request made as `draft`.
    public init(_ draft: EvidenceRequestDraft) {
        var request = draft
        request.cameraIDs = []
        self.request = request
    }
}

/// Where an incident lies from a camera: how far, in which direction, and whether a fixed camera looks that way.
public struct CameraSightline: Sendable, Hashable {
    /// Metres from the camera to the incident, to the nearest metre.
    public var distanceMetres: Int
    /// The initial bearing from the camera to the incident, degrees clockwise from true north, to one decimal.
    public var bearingDegrees: Double
    /// For a fixed camera with a heading and a field of view: whether the incident's bearing lies within that
    /// view. `nil` when that cannot be said (another kind of camera, or no heading or field of view recorded).
    public var incidentInView: Bool?

    /// The sightline from a camera at `camera` of `kind`, facing `heading` with `fieldOfView` (degrees), to `incident`.
    public init(from camera: Location, kind: CameraKind, heading: Double?, fieldOfView: Double?, to incident: Location) {
        let radians = Double.pi / 180
        let (lat1, lat2) = (camera.lat * radians, incident.lat * radians)
        let (dLat, dLon) = ((incident.lat - camera.lat) * radians, (incident.lon - camera.lon) * radians)
        // Haversine on a sphere of the mean Earth radius: within 0.5 % of the ellipsoid at London's scale.
        let a = sin(dLat / 2) * sin(dLat / 2) + cos(lat1) * cos(lat2) * sin(dLon / 2) * sin(dLon / 2)
        distanceMetres = Int((2 * 6_371_008.8 * atan2(a.squareRoot(), (1 - a).squareRoot())).rounded())
        let y = sin(dLon) * cos(lat2)
        let x = cos(lat1) * sin(lat2) - sin(lat1) * cos(lat2) * cos(dLon)
        let bearing = (atan2(y, x) / radians + 360).truncatingRemainder(dividingBy: 360)
        bearingDegrees = (bearing * 10).rounded() / 10 == 360 ? 0 : (bearing * 10).rounded() / 10
        if kind == .fixed, let heading, let fieldOfView {
            // A camera on top of the incident sees it whichever way it faces.
            let off = abs((bearing - heading + 540).truncatingRemainder(dividingBy: 360) - 180)
            incidentInView = distanceMetres == 0 || fieldOfView >= 360 || off <= fieldOfView / 2
        } else {
            incidentInView = nil
        }
    }
}
