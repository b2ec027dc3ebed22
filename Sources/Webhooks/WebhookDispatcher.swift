import Domain
import Foundation
import LibCurl
import Logging
import Prometheus
import ServiceLifecycle
import Storage
import Synchronization

/// Sends webhooks (DESIGN §7): fans new events out into deliveries, claims due deliveries under a lease, sends
/// each through libcurl with its Standard Webhooks signature, and records the outcome. Any number of
/// dispatchers may run against one database. It wakes on a NOTIFY on `WebhookQueue.channel`, when a delivery
/// finishes, and at least every `pollInterval`; at graceful shutdown it stops claiming and finishes what is in
/// flight. It owns its libcurl client, whose thread ends with `run()`. It reads the time from its clock: a
/// delivery is due, a circuit closes and an endpoint has failed too long by that clock. (Expired leases are
/// reaped, and old events purged, by the workers' jobs.)
public final class WebhookDispatcher: Service, Sendable {
    private let queue: WebhookQueue
    private let database: Database
    private let settings: WebhookSettings
    private let client: CurlClient
    private let metrics: WebhookMetrics?
    private let logger: Logger
    private let inFlight = Mutex(0)
    /// Whether a NOTIFY or the poll has come since the last fan-out (a finished delivery wakes only a claim).
    private let eventsMayBeNew = Mutex(true)
    /// Attempts waiting to be recorded, and whether a task is recording.
    private let recording = Mutex<(waiting: [WebhookQueue.Attempt], busy: Bool)>(([], false))
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// A dispatcher over `database`, reading the time from its clock; `metrics` are optional.
    public init(_ database: Database, settings: WebhookSettings, metrics: WebhookMetrics?, logger: Logger) {
        self.database = database
        self.queue = WebhookQueue(database)
        self.settings = settings
        self.client = CurlClient()
        self.metrics = metrics
        self.logger = logger
        (wakeups, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    public func run() async throws {
        defer { client.shutdown() }
        let listener = try database.listener(channel: WebhookQueue.channel, logger: logger)
        await withDiscardingTaskGroup { group in
            group.addTask { try? await listener.run() }
            group.addTask {
                for await _ in listener.wakeUps { self.lookForEvents() }
            }
            group.addTask { [settings] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: settings.pollInterval)
                    self.lookForEvents()
                }
            }
            await withGracefulShutdownHandler {
                await self.dispatch()
            } onGracefulShutdown: { [wake] in
                wake.finish()
            }
            group.cancelAll()
        }
    }

    /// Wakes the dispatcher for a pass that fans out first.
    private func lookForEvents() {
        eventsMayBeNew.withLock { $0 = true }
        wake.yield()
    }

    /// Passes until the wake-ups end (at shutdown), then waits for the deliveries in flight.
    private func dispatch() async {
        await withDiscardingTaskGroup { deliveries in
            var failing = false
            var lastUpkeep = ContinuousClock.now - .seconds(60)
            for await _ in wakeups {
                do {
                    if let metrics, ContinuousClock.now - lastUpkeep >= .seconds(5) {
                        lastUpkeep = ContinuousClock.now
                        metrics.record(depth: try await queue.depth())
                    }
                    try await pass(&deliveries)
                    if failing { logger.info("webhook dispatcher recovered") }
                    failing = false
                } catch {
                    if !failing { logger.warning("webhook dispatcher pass failed; retrying", metadata: ["error": "\(error)"]) }
                    failing = true
                }
            }
        }
    }

    /// Fans out what is new (when a NOTIFY or the poll says there may be some), then claims as many due
    /// deliveries as there is room for and starts sending them.
    private func pass(_ deliveries: inout DiscardingTaskGroup) async throws {
        if eventsMayBeNew.withLock({ may in
            defer { may = false }
            return may
        }) {
            // Fan out until a batch comes back short: everything committed so far has its deliveries.
            let batch = 1000
            var created = 0
            while true {
                let fanned = try await queue.fanOut(limit: batch)
                created += fanned.deliveries
                if fanned.events < batch { break }
            }
            if created > 0 {
                // Other dispatchers may claim some of these.
                try await queue.wakeDispatchers()
            }
        }
        let room = settings.concurrency - inFlight.withLock { $0 }
        let claims = try await queue.claim(limit: room, perEndpoint: settings.perEndpoint, lease: settings.lease)
        inFlight.withLock { $0 += claims.count }
        for claim in claims {
            deliveries.addTask { await self.deliver(claim) }
        }
    }

    /// Sends one attempt and hands its outcome to be recorded. A failure to record leaves the lease to run out,
    /// after which the delivery is sent again: at least once.
    func deliver(_ claim: WebhookQueue.Claim) async {
        let started = database.clock.now()
        let outcome = await send(claim, at: started)
        await record(WebhookQueue.Attempt(claim, outcome))
    }

    /// Records `attempt` with whatever else has finished meanwhile (group commit): the first task to find no
    /// recording under way records, batch after batch, everything handed in until nothing waits; the others
    /// return at once. Recorded attempts leave room for more, so each batch wakes the dispatcher.
    private func record(_ attempt: WebhookQueue.Attempt) async {
        let leads = recording.withLock { state -> Bool in
            state.waiting.append(attempt)
            guard !state.busy else { return false }
            state.busy = true
            return true
        }
        guard leads else { return }
        while let batch = recording.withLock({ state -> [WebhookQueue.Attempt]? in
            guard !state.waiting.isEmpty else {
                state.busy = false
                return nil
            }
            defer { state.waiting.removeAll(keepingCapacity: true) }
            return state.waiting
        }) {
            do {
                let recorded = try await queue.record(batch, schedule: settings.schedule, breaker: settings.breaker)
                for (attempt, result) in zip(batch, recorded) {
                    metrics?.record(result, duration: attempt.outcome.timings.map { .milliseconds($0.total) })
                    if result == .endpointDisabled {
                        logger.warning(
                            "webhook endpoint disabled",
                            metadata: ["endpoint": "\(attempt.claim.endpointID)", "status": "\(attempt.outcome.statusCode ?? 0)"]
                        )
                    }
                }
            } catch {
                logger.warning("could not record webhook attempts", metadata: ["count": "\(batch.count)", "error": "\(error)"])
            }
            inFlight.withLock { $0 -= batch.count }
            wake.yield()
        }
    }

    private func send(_ claim: WebhookQueue.Claim, at started: Date) async -> WebhookQueue.Outcome {
        let body = Array(claim.body.utf8)
        let id = claim.eventID.uuidString.lowercased()
        let timestamp = Int(started.timeIntervalSince1970)
        guard case .success(let url) = WebhookURL.parse(claim.url, at: "/url") else {
            return failure(.other, "the endpoint's URL is not valid", started)
        }
        let policy = settings.policy
        let plainHTTP = url.scheme == "http"
        let request = CurlRequest(
            method: "POST", url: claim.url,
            headers: [
                CurlHeader("Content-Type", "application/json"), CurlHeader("User-Agent", "Sightline-Webhooks/1"), CurlHeader("webhook-id", id),
                CurlHeader("webhook-timestamp", String(timestamp)),
                CurlHeader("webhook-signature", WebhookSigner.signature(id: id, timestamp: timestamp, body: body, secrets: claim.secrets)),
                CurlHeader("webhook-attempt", String(claim.attempt)),
            ],
            body: body, connectTimeout: settings.connectTimeout, timeout: settings.timeout, maxResponseBodyBytes: 4096, followRedirects: false,
            allowedProtocols: [.http, .https],
            tls: CurlTLSOptions(
                caBundlePEM: claim.tlsCACertificate, clientCertificatePEM: claim.tlsClientCertificate, clientKeyPEM: claim.tlsClientKey),
            // Checked again at connect time, whatever the name resolves to now (DNS rebinding): plain HTTP only
            // to addresses the operator allows, HTTPS to those or any public address.
            addressFilter: { address in
                guard let address = NetworkAddress(bytes: address.bytes) else { return false }
                return plainHTTP ? policy.isAllowed(address) : policy.permits(address)
            }
        )
        do {
            let response = try await client.execute(request)
            return WebhookQueue.Outcome(
                statusCode: response.status, retryAfter: response.header("Retry-After"), errorClass: nil, errorMessage: nil,
                timings: WebhookDelivery.Timings(response.timings), startedAt: started
            )
        } catch let error as CurlError {
            let errorClass: WebhookErrorClass =
                switch error.code {
                case .couldNotResolve: .dns
                case .couldNotConnect: .connect
                case .addressRefused: .refusedAddress
                case .connectTimeout, .timeout: .timeout
                case .tls: .tls
                default: .other
                }
            return failure(errorClass, error.description, started)
        } catch {
            return failure(.other, "\(error)", started)
        }
    }

    private func failure(_ errorClass: WebhookErrorClass, _ message: String, _ started: Date) -> WebhookQueue.Outcome {
        WebhookQueue.Outcome(statusCode: nil, retryAfter: nil, errorClass: errorClass, errorMessage: message, timings: nil, startedAt: started)
    }
}

extension WebhookDelivery.Timings {
    init(_ timings: CurlTimings) {
        func ms(_ duration: Duration) -> Double { duration.seconds * 1000 }
        self.init(
            dns: ms(timings.dns), connect: ms(timings.connect), tls: ms(timings.tls), firstByte: ms(timings.firstByte), total: ms(timings.total))
    }
}

/// Tells dispatchers, after a change has committed, that there may be events to send: one NOTIFY at a time,
/// however many changes ask for one meanwhile.
public final class WebhookNudge: Sendable {
    private let queue: WebhookQueue
    private let state = Mutex((requested: false, sending: false))

    /// A nudge sending through `database`.
    public init(_ database: Database) { self.queue = WebhookQueue(database) }

    /// Asks for a NOTIFY soon; returns at once.
    public func eventsWritten() {
        let start = state.withLock { state -> Bool in
            state.requested = true
            guard !state.sending else { return false }
            state.sending = true
            return true
        }
        guard start else { return }
        Task {
            while state.withLock({ state -> Bool in
                guard state.requested else {
                    state.sending = false
                    return false
                }
                state.requested = false
                return true
            }) {
                try? await queue.wakeDispatchers()
            }
        }
    }
}
