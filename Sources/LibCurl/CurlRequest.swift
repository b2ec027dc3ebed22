/// One HTTP request for `CurlClient`.
public struct CurlRequest: Sendable {
    /// The request method, e.g. `GET` or `POST`.
    public var method: String
    /// The absolute URL.
    public var url: String
    /// Header fields in order; a field may repeat.
    public var headers: [CurlHeader]
    /// The request body, if any.
    public var body: [UInt8]?
    /// How long connecting (including TLS) may take.
    public var connectTimeout: Duration
    /// How long the whole transfer may take.
    public var timeout: Duration
    /// The most body bytes to keep; a longer body is cut there and the transfer ends early.
    public var maxResponseBodyBytes: Int
    /// Whether to follow redirects (at most 5). Off by default: a redirect is a response like any other.
    public var followRedirects: Bool
    /// The URL schemes the request (and any redirect) may use.
    public var allowedProtocols: Set<CurlProtocol>
    /// Trust and identity for TLS.
    public var tls: CurlTLSOptions
    /// Sees each address the host name resolved to before connecting to it, and may refuse it.
    public var addressFilter: (@Sendable (CurlAddress) -> Bool)?

    /// A request with the defaults: 5 s to connect, 15 s in all, a 1 MiB body cap, no redirects, HTTP or HTTPS.
    public init(
        method: String = "GET",
        url: String,
        headers: [CurlHeader] = [],
        body: [UInt8]? = nil,
        connectTimeout: Duration = .seconds(5),
        timeout: Duration = .seconds(15),
        maxResponseBodyBytes: Int = 1 << 20,
        followRedirects: Bool = false,
        allowedProtocols: Set<CurlProtocol> = [.http, .https],
        tls: CurlTLSOptions = CurlTLSOptions(),
        addressFilter: (@Sendable (CurlAddress) -> Bool)? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.maxResponseBodyBytes = maxResponseBodyBytes
        self.followRedirects = followRedirects
        self.allowedProtocols = allowedProtocols
        self.tls = tls
        self.addressFilter = addressFilter
    }
}

/// One header field.
public struct CurlHeader: Sendable, Hashable {
    /// The field name as sent or received.
    public var name: String
    /// The field value, without surrounding white space.
    public var value: String

    /// A header field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A URL scheme a request may use.
public enum CurlProtocol: String, Sendable, Hashable {
    case http, https
}

/// TLS settings: a CA bundle to trust instead of the system's, and a client certificate for mutual TLS, each
/// as a file or as PEM text held in memory.
public struct CurlTLSOptions: Sendable, Hashable {
    /// PEM CA certificates to trust instead of the system's.
    public var caBundlePEM: String?
    /// A PEM client certificate, for mutual TLS.
    public var clientCertificatePEM: String?
    /// Its PEM private key.
    public var clientKeyPEM: String?

    /// A PEM file of CA certificates to trust; `nil` trusts the system's.
    public var caBundlePath: String?
    /// A PEM client certificate, for mutual TLS.
    public var clientCertificatePath: String?
    /// The PEM private key of the client certificate.
    public var clientKeyPath: String?

    /// TLS settings; every part is optional.
    public init(
        caBundlePath: String? = nil, clientCertificatePath: String? = nil, clientKeyPath: String? = nil, caBundlePEM: String? = nil,
        clientCertificatePEM: String? = nil, clientKeyPEM: String? = nil
    ) {
        self.caBundlePath = caBundlePath
        self.clientCertificatePath = clientCertificatePath
        self.clientKeyPath = clientKeyPath
        self.caBundlePEM = caBundlePEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
    }
}

/// An address a host name resolved to, offered to `CurlRequest.addressFilter` before connecting.
public struct CurlAddress: Sendable, Hashable, CustomStringConvertible {
    /// IPv4 or IPv6.
    public enum Family: Sendable, Hashable { case ipv4, ipv6 }

    /// The address family.
    public let family: Family
    /// The address's bytes in network order: 4 for IPv4, 16 for IPv6.
    public let bytes: [UInt8]
    /// The port.
    public let port: Int
    /// The address in its usual text form (`127.0.0.1`, `::1`).
    public let text: String

    public var description: String { family == .ipv6 ? "[\(text)]:\(port)" : "\(text):\(port)" }
}

/// The answer to a `CurlRequest`.
public struct CurlResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// The header fields of the final response, in order.
    public var headers: [CurlHeader]
    /// The body, at most `maxResponseBodyBytes` of it.
    public var body: [UInt8]
    /// Whether the body was longer than the cap and was cut.
    public var bodyTruncated: Bool
    /// The IP address the transfer connected to.
    public var connectedIP: String?
    /// Where the time went.
    public var timings: CurlTimings

    /// The first value of the header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// Time from the start of the transfer until each phase ended, as libcurl measures it.
public struct CurlTimings: Sendable, Hashable {
    /// Name resolution done.
    public var dns: Duration
    /// TCP connection established.
    public var connect: Duration
    /// TLS handshake done (zero for plain HTTP).
    public var tls: Duration
    /// First response byte received.
    public var firstByte: Duration
    /// Transfer complete.
    public var total: Duration
}

/// A transfer that failed before a response could be read.
public struct CurlError: Error, Sendable, CustomStringConvertible {
    /// The class of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The host name did not resolve.
        public static let couldNotResolve = Code("could not resolve host")
        /// Connecting failed (refused, unreachable).
        public static let couldNotConnect = Code("could not connect")
        /// The address filter refused every address the host resolved to.
        public static let addressRefused = Code("address refused")
        /// Connecting took longer than `connectTimeout`.
        public static let connectTimeout = Code("connect timeout")
        /// The transfer took longer than `timeout`.
        public static let timeout = Code("timeout")
        /// TLS failed: handshake, certificate or key.
        public static let tls = Code("TLS failure")
        /// The URL's scheme is not allowed, or the URL is malformed.
        public static let invalidURL = Code("invalid URL")
        /// The client was shut down.
        public static let shutdown = Code("client shut down")
        /// Anything else; `message` says what.
        public static let other = Code("transfer failed")

        public var description: String { name }
    }

    /// The class of failure.
    public let code: Code
    /// libcurl's result code, where libcurl reported one.
    public let curlCode: Int32?
    /// libcurl's own explanation.
    public let message: String

    public var description: String { "\(code): \(message)" }
}
