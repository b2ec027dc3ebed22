import Foundation

/// A signing secret: `whsec_` and the base64 of its key, at least 24 random bytes (Standard Webhooks).
public struct WebhookSecret: Sendable, Hashable, CustomStringConvertible {
    /// The key the HMAC is computed with.
    public let key: [UInt8]

    /// The secret as shown to the partner and stored.
    public var text: String { "whsec_" + Data(key).base64EncodedString() }

    /// Never the secret itself: a secret must not reach a log by accident.
    public var description: String { "whsec_…" }

    /// A new secret of 32 random bytes.
    public static func generate() -> WebhookSecret {
        var generator = SystemRandomNumberGenerator()
        return WebhookSecret(key: (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    private init(key: [UInt8]) { self.key = key }

    /// The secret in `text`, or `nil` unless it is `whsec_` and the base64 of at least 24 bytes.
    public init?(_ text: String) {
        guard text.hasPrefix("whsec_"), let key = Data(base64Encoded: String(text.dropFirst(6))), key.count >= 24 else { return nil }
        self.key = Array(key)
    }
}

/// A webhook URL's parts, as checked before any name is resolved.
public struct WebhookURL: Sendable, Hashable {
    public var scheme: String
    /// The host: a name, or an address (IPv6 without its brackets).
    public var host: String
    public var port: Int

    /// The URL in `text`, or the problem with it: absolute `https` (or `http`, allowed only towards an allowed
    /// address, which is checked once the host is resolved), no user information, no fragment.
    public static func parse(_ text: String, at pointer: String) -> Result<WebhookURL, ValidationError> {
        func problem(_ detail: String) -> Result<WebhookURL, ValidationError> {
            .failure(ValidationError([FieldProblem(pointer: pointer, detail: detail)]))
        }
        guard text.count <= 2000 else { return problem("is longer than 2000 characters") }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return problem("is not an absolute URL")
        }
        guard scheme == "https" || scheme == "http" else { return problem("must use https") }
        guard var host = components.host, !host.isEmpty else { return problem("has no host") }
        guard components.user == nil, components.password == nil else { return problem("must not carry a user name or password") }
        guard components.fragment == nil else { return problem("must not have a fragment") }
        if let port = components.port, !(1...65535).contains(port) { return problem("has a port outside 1 to 65535") }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.contains("%") else { return problem("must not name an interface zone") }
        return .success(WebhookURL(scheme: scheme, host: host.lowercased(), port: components.port ?? (scheme == "https" ? 443 : 80)))
    }

    /// The problem, if any, with sending to this URL when its host resolves to `addresses`: every address must
    /// be permitted, and plain HTTP needs every address allowed by the operator.
    public func problem(resolvedTo addresses: [NetworkAddress], policy: WebhookAddressPolicy) -> String? {
        guard !addresses.isEmpty else { return "has a host that does not resolve" }
        if let refused = addresses.first(where: { !policy.permits($0) }) {
            return "resolves to \(refused), which is not a public address"
        }
        if scheme == "http" && !addresses.allSatisfy({ policy.isAllowed($0) }) { return "must use https" }
        return nil
    }
}

/// What a partner asks for when registering an endpoint.
public struct WebhookEndpointDraft: Sendable, Hashable, Codable {
    public var url: String
    /// Empty: every type.
    public var eventTypes: [String]
    public var description: String?
    public var enabled: Bool
    public var covertAccess: Bool
    public var tlsClientCertificate: String?
    public var tlsClientKey: String?
    public var tlsCACertificate: String?

    /// A draft from its parts.
    public init(
        url: String, eventTypes: [String] = [], description: String? = nil, enabled: Bool = true, covertAccess: Bool = false,
        tlsClientCertificate: String? = nil, tlsClientKey: String? = nil, tlsCACertificate: String? = nil
    ) {
        self.url = url
        self.eventTypes = eventTypes
        self.description = description
        self.enabled = enabled
        self.covertAccess = covertAccess
        self.tlsClientCertificate = tlsClientCertificate
        self.tlsClientKey = tlsClientKey
        self.tlsCACertificate = tlsCACertificate
    }

    /// The fields a PATCH may name.
    public static let patchableFields: Set<String> = Set(CodingKeys.allCases.map(\.rawValue))

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url
        case eventTypes = "event_types"
        case description, enabled
        case covertAccess = "covert_access"
        case tlsClientCertificate = "tls_client_certificate"
        case tlsClientKey = "tls_client_key"
        case tlsCACertificate = "tls_ca_certificate"
    }

    /// Every problem with the draft apart from where its host resolves; `WebhookURL` comes back for that check.
    public func validate() throws -> WebhookURL {
        var problems: [FieldProblem] = []
        var parsed: WebhookURL?
        switch WebhookURL.parse(url, at: "/url") {
        case .success(let url): parsed = url
        case .failure(let error): problems += error.problems
        }
        var seen: Set<String> = []
        for (index, type) in eventTypes.enumerated() {
            if !EventType.subscribable.contains(type) {
                problems.append(FieldProblem(pointer: "/event_types/\(index)", detail: "is not an event type"))
            } else if !seen.insert(type).inserted {
                problems.append(FieldProblem(pointer: "/event_types/\(index)", detail: "repeats an earlier type"))
            }
        }
        if let problem = TextRules.problem(description, at: "/description", maximum: 500) { problems.append(problem) }
        for (pointer, pem, label) in [
            ("/tls_client_certificate", tlsClientCertificate, "CERTIFICATE"), ("/tls_ca_certificate", tlsCACertificate, "CERTIFICATE"),
            ("/tls_client_key", tlsClientKey, "PRIVATE KEY"),
        ] {
            guard let pem else { continue }
            if pem.count > 65536 || !pem.contains("-----BEGIN ") || !pem.contains(label + "-----") {
                problems.append(FieldProblem(pointer: pointer, detail: "is not a PEM " + label.lowercased()))
            }
        }
        if (tlsClientCertificate == nil) != (tlsClientKey == nil) {
            problems.append(
                FieldProblem(pointer: tlsClientKey == nil ? "/tls_client_key" : "/tls_client_certificate", detail: "must be given with its pair"))
        }
        guard problems.isEmpty, let parsed else { throw ValidationError(problems) }
        return parsed
    }
}

/// Why an endpoint is disabled.
public enum WebhookDisabledReason: String, Sendable, Hashable, Codable {
    /// Its organisation turned it off.
    case partner
    /// It answered 410 Gone.
    case gone
    /// It failed for longer than the circuit breaker's `disableAfter`.
    case failing
}

/// An endpoint as stored, without its secrets.
public struct WebhookEndpoint: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var organisationID: UUID
    public var draft: WebhookEndpointDraft
    public var disabledReason: WebhookDisabledReason?
    public var disabledAt: Date?
    /// While a rotated-out secret still signs.
    public var previousSecretUntil: Date?
    public var consecutiveFailures: Int
    public var failingSince: Date?
    public var circuitOpenUntil: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    /// An endpoint from its parts.
    public init(
        id: UUID, organisationID: UUID, draft: WebhookEndpointDraft, disabledReason: WebhookDisabledReason?, disabledAt: Date?,
        previousSecretUntil: Date?, consecutiveFailures: Int, failingSince: Date?, circuitOpenUntil: Date?, createdAt: Date,
        updatedAt: Date, version: Int
    ) {
        self.id = id
        self.organisationID = organisationID
        self.draft = draft
        self.disabledReason = disabledReason
        self.disabledAt = disabledAt
        self.previousSecretUntil = previousSecretUntil
        self.consecutiveFailures = consecutiveFailures
        self.failingSince = failingSince
        self.circuitOpenUntil = circuitOpenUntil
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}
