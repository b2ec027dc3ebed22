import Foundation

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
