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

/// How a failed delivery is retried: after each failed attempt, the next waits the schedule's delay for that
/// attempt, give or take `jitter` of it; when the schedule runs out the delivery has failed.
public struct WebhookRetrySchedule: Sendable, Hashable {
    /// The waits after the first, second, … failed attempt.
    public var delays: [Duration]
    /// The fraction each wait may be shortened or lengthened by at random, spreading retries of one outage.
    public var jitter: Double
    /// The longest `Retry-After` honoured.
    public var longestRetryAfter: Duration

    /// DESIGN §7: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, each ±10 %.
    public static let standard = WebhookRetrySchedule(
        delays: [
            .seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18000), .seconds(36000), .seconds(50400),
            .seconds(72000), .seconds(86400),
        ],
        jitter: 0.1, longestRetryAfter: .seconds(86400)
    )

    /// A schedule from its parts.
    public init(delays: [Duration], jitter: Double, longestRetryAfter: Duration) {
        self.delays = delays
        self.jitter = jitter
        self.longestRetryAfter = longestRetryAfter
    }

    /// How long to wait after failed attempt number `attempt` (1 for the first), to the millisecond, or `nil`
    /// if that was the last. A `retryAfter` the receiver asked for replaces the schedule's wait, within `longestRetryAfter`.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil, random: Double = Double.random(in: -1...1)) -> Duration? {
        guard attempt >= 1, attempt <= delays.count else { return nil }
        if let retryAfter { return min(max(retryAfter, .zero), longestRetryAfter) }
        let seconds = delays[attempt - 1].seconds * (1 + jitter * max(-1, min(1, random)))
        return .milliseconds(Int((seconds * 1000).rounded()))
    }
}

/// What an attempt's outcome means for its delivery and its endpoint.
public enum WebhookAttemptVerdict: Sendable, Hashable {
    /// 2xx: delivered.
    case delivered
    /// 410: the endpoint is gone; disable it.
    case gone
    /// Anything else: try again later, after `retryAfter` if the receiver said (429 and 503 only).
    case retry(retryAfter: Duration?)

    /// The verdict on an HTTP status, with the response's `Retry-After` (RFC 9110 §10.2.3: seconds or an
    /// HTTP date) read relative to `now`.
    public static func of(status: Int, retryAfter: String?, now: Date) -> WebhookAttemptVerdict {
        switch status {
        case 200..<300: return .delivered
        case 410: return .gone
        case 429, 503: return .retry(retryAfter: retryAfter.flatMap { parseRetryAfter($0, now: now) })
        default: return .retry(retryAfter: nil)
        }
    }

    /// A `Retry-After` value as a wait from `now`, or `nil` if it is neither a number of seconds nor an HTTP date.
    public static func parseRetryAfter(_ text: String, now: Date) -> Duration? {
        let value = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(value), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: value) else { return nil }
        return .seconds(max(0, Int(date.timeIntervalSince(now).rounded(.up))))
    }
}

/// The circuit breaker of one endpoint: after `threshold` consecutive failed attempts it opens for a while
/// (doubling with every further failure, up to `longestOpen`), during which none of the endpoint's deliveries
/// is claimed; when that passes one delivery at a time probes it, and the first success closes it. An endpoint
/// failing for `disableAfter` is disabled.
public struct WebhookCircuitBreaker: Sendable, Hashable {
    public var threshold: Int
    public var firstOpen: Duration
    public var longestOpen: Duration
    public var disableAfter: Duration

    /// DESIGN §7: open after 5 failures in a row, for 30 s doubling up to 10 min; disable after 5 days.
    public static let standard = WebhookCircuitBreaker(
        threshold: 5, firstOpen: .seconds(30), longestOpen: .seconds(600), disableAfter: .seconds(5 * 86400))

    /// A breaker from its parts.
    public init(threshold: Int, firstOpen: Duration, longestOpen: Duration, disableAfter: Duration) {
        self.threshold = threshold
        self.firstOpen = firstOpen
        self.longestOpen = longestOpen
        self.disableAfter = disableAfter
    }

    /// How long the circuit stays open after `consecutiveFailures` failures in a row, or `nil` if it stays closed.
    public func openFor(consecutiveFailures: Int) -> Duration? {
        guard consecutiveFailures >= threshold else { return nil }
        var wait = firstOpen
        for _ in 0..<min(consecutiveFailures - threshold, 20) where wait < longestOpen { wait = wait * 2 }
        return min(wait, longestOpen)
    }
}

/// An IPv4 or IPv6 address as bytes in network order.
public struct NetworkAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// An address from 4 or 16 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// An address in its usual text form: dotted IPv4, or IPv6 with `::` (no brackets, no zone).
    public init?(_ text: String) {
        if let v4 = Self.parseIPv4(Substring(text)) {
            bytes = v4
        } else if let v6 = Self.parseIPv6(text) {
            bytes = v6
        } else {
            return nil
        }
    }

    public var isIPv4: Bool { bytes.count == 4 }

    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
    }

    private static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber),
                part.count == 1 || part.first != "0", let value = UInt8(part)
            else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    private static func parseIPv6(_ text: String) -> [UInt8]? {
        guard text.contains(":"), text.count <= 45 else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt8]? {
            guard !part.isEmpty else { return [] }
            var bytes: [UInt8] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, field) in fields.enumerated() {
                if index == fields.count - 1, field.contains("."), let v4 = parseIPv4(field) {
                    bytes += v4
                } else {
                    guard (1...4).contains(field.count), let value = UInt16(field, radix: 16) else { return nil }
                    bytes += [UInt8(value >> 8), UInt8(value & 0xff)]
                }
            }
            return bytes
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}

/// A block of addresses, `10.0.0.0/8` or `fd00::/8`.
public struct AddressBlock: Sendable, Hashable, CustomStringConvertible {
    public let address: NetworkAddress
    public let prefixLength: Int

    /// A block from CIDR text; a bare address is a block of one.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = NetworkAddress(String(parts[0])) else { return nil }
        let bits = address.bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        self.address = address
    }

    public var description: String { "\(address)/\(prefixLength)" }

    /// Whether `candidate` lies in the block (an IPv4 address never lies in an IPv6 block, nor the reverse).
    public func contains(_ candidate: NetworkAddress) -> Bool {
        guard candidate.bytes.count == address.bytes.count else { return false }
        var remaining = prefixLength
        for index in address.bytes.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            if candidate.bytes[index] & mask != address.bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }
}

/// Which addresses a webhook may be sent to (DESIGN §6): public ones only, unless the operator allows a block
/// (`SIGHTLINE_WEBHOOK_ALLOW_CIDRS`); an allowed address may also be reached over plain HTTP.
public struct WebhookAddressPolicy: Sendable, Hashable {
    /// Blocks that may be reached although not public.
    public var allowed: [AddressBlock]

    /// A policy allowing `allowed` besides the public internet.
    public init(allowed: [AddressBlock] = []) { self.allowed = allowed }

    /// Never public: this network, private, shared (CGNAT), loopback, link-local, protocol assignments,
    /// benchmarking, documentation, multicast, reserved and broadcast; in IPv6 also unspecified, loopback,
    /// IPv4-mapped and -compatible, NAT64, unique local, link-local, site-local, documentation and multicast.
    static let nonPublic: [AddressBlock] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
        "240.0.0.0/4",
        "::/96", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "2002::/16", "fc00::/7",
        "fe80::/10", "fec0::/10", "ff00::/8",
    ].compactMap(AddressBlock.init)

    /// Whether `address` is reachable by the public internet's rules alone.
    public static func isPublic(_ address: NetworkAddress) -> Bool { !nonPublic.contains { $0.contains(address) } }

    /// Whether the operator allows `address` explicitly.
    public func isAllowed(_ address: NetworkAddress) -> Bool { allowed.contains { $0.contains(address) } }

    /// Whether a webhook may connect to `address`.
    public func permits(_ address: NetworkAddress) -> Bool { Self.isPublic(address) || isAllowed(address) }
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

/// Where a delivery stands.
public enum WebhookDeliveryStatus: String, Sendable, Hashable, CaseIterable {
    /// Waiting for its next attempt (or for an earlier event about its subject).
    case pending
    /// Leased to a dispatcher, which is sending it.
    case delivering
    case succeeded
    /// The retry schedule ran out.
    case failed
}

/// How an attempt went wrong, for the partner's delivery log and the metrics.
public enum WebhookErrorClass: String, Sendable, Hashable, CaseIterable {
    /// A response came, with a status that is not 2xx.
    case httpStatus = "http_status"
    case timeout
    case connect
    case dns
    case tls
    /// Every address the host resolved to is refused by the address policy.
    case refusedAddress = "refused_address"
    /// The dispatcher sending it stopped before recording the outcome; the lease ran out.
    case leaseExpired = "lease_expired"
    case other
}

/// One delivery with what its last attempt found.
public struct WebhookDelivery: Sendable, Hashable, Identifiable {
    /// Time from the start of an attempt to each phase's end, in milliseconds, as libcurl measured it.
    public struct Timings: Sendable, Hashable {
        public var dns: Double
        public var connect: Double
        public var tls: Double
        public var firstByte: Double
        public var total: Double

        /// Timings from their parts.
        public init(dns: Double, connect: Double, tls: Double, firstByte: Double, total: Double) {
            self.dns = dns
            self.connect = connect
            self.tls = tls
            self.firstByte = firstByte
            self.total = total
        }
    }

    public var id: UUID
    public var endpointID: UUID
    public var eventID: UUID
    public var eventType: String
    public var subject: String
    public var sequence: Int
    public var status: WebhookDeliveryStatus
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastStatusCode: Int?
    public var lastErrorClass: WebhookErrorClass?
    public var lastError: String?
    public var lastTimings: Timings?
    public var createdAt: Date
    public var deliveredAt: Date?
    /// Its latest attempts, newest first, when one delivery is read; `nil` in lists.
    public var attemptLog: [WebhookAttempt]?

    /// A delivery from its parts.
    public init(
        id: UUID, endpointID: UUID, eventID: UUID, eventType: String, subject: String, sequence: Int, status: WebhookDeliveryStatus,
        attempts: Int, nextAttemptAt: Date?, lastStatusCode: Int?, lastErrorClass: WebhookErrorClass?, lastError: String?,
        lastTimings: Timings?, createdAt: Date, deliveredAt: Date?
    ) {
        self.id = id
        self.endpointID = endpointID
        self.eventID = eventID
        self.eventType = eventType
        self.subject = subject
        self.sequence = sequence
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastStatusCode = lastStatusCode
        self.lastErrorClass = lastErrorClass
        self.lastError = lastError
        self.lastTimings = lastTimings
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
    }
}

/// One attempt at a delivery, as it was recorded.
public struct WebhookAttempt: Sendable, Hashable {
    /// The `webhook-attempt` header it was sent with.
    public var attempt: Int
    public var startedAt: Date
    /// The endpoint's answer, if one came.
    public var statusCode: Int?
    /// Why it failed; `nil` if it succeeded.
    public var errorClass: WebhookErrorClass?
    public var error: String?
    public var timings: WebhookDelivery.Timings?

    /// An attempt from its parts.
    public init(attempt: Int, startedAt: Date, statusCode: Int?, errorClass: WebhookErrorClass?, error: String?, timings: WebhookDelivery.Timings?) {
        self.attempt = attempt
        self.startedAt = startedAt
        self.statusCode = statusCode
        self.errorClass = errorClass
        self.error = error
        self.timings = timings
    }
}
