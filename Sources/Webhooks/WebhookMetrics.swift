import Prometheus
import Storage
import Synchronization

/// The dispatcher's Prometheus metrics: deliveries by outcome, attempt latency, and the queue's depth and
/// oldest pending age by the state of the endpoints' circuits.
public final class WebhookMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let attemptDuration: DurationHistogram
    private let outcomes = Mutex<[String: Counter]>([:])
    private let gauges = Mutex<[String: (depth: Gauge, oldest: Gauge)]>([:])

    /// Metrics registered in `registry` (the one `/metrics` renders).
    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        attemptDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "sightline", subsystem: "webhook", metricName: "attempt_duration", unitName: "seconds",
                helpText: "Time from the start of a webhook attempt to its response, as libcurl measured it."
            ),
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                      .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(15)]
        )
    }

    /// One attempt recorded as `outcome`, which took `duration` if a response came.
    func record(_ outcome: WebhookQueue.Recorded, duration: Duration?) {
        let name = switch outcome {
        case .delivered: "delivered"
        case .retrying: "retrying"
        case .failed: "failed"
        case .endpointDisabled: "endpoint_disabled"
        case .stale: "stale"
        }
        let counter = outcomes.withLock { counters in
            if let counter = counters[name] { return counter }
            let counter = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "sightline", subsystem: "webhook", metricName: "deliveries", unitName: "total",
                    helpText: "Webhook attempts recorded, by outcome."
                ),
                labels: [("outcome", name)]
            )
            counters[name] = counter
            return counter
        }
        counter.increment()
        if let duration { attemptDuration.record(duration) }
    }

    /// The queue's shape now; states with nothing pending read zero.
    func record(depth: [(state: String, pending: Int, oldestSeconds: Double)]) {
        for state in ["closed", "open", "half_open", "disabled"] {
            let figures = depth.first { $0.state == state }
            let pair = gauges.withLock { gauges in
                if let pair = gauges[state] { return pair }
                let pair = (
                    depth: registry.makeGauge(
                        descriptor: MetricNameDescriptor(
                            namespace: "sightline", subsystem: "webhook", metricName: "queue_depth", unitName: "",
                            helpText: "Webhook deliveries pending or in flight, by the state of their endpoint's circuit."
                        ),
                        labels: [("endpoint_state", state)]
                    ),
                    oldest: registry.makeGauge(
                        descriptor: MetricNameDescriptor(
                            namespace: "sightline", subsystem: "webhook", metricName: "oldest_pending_age", unitName: "seconds",
                            helpText: "Age of the oldest webhook delivery pending or in flight, by the state of its endpoint's circuit."
                        ),
                        labels: [("endpoint_state", state)]
                    )
                )
                gauges[state] = pair
                return pair
            }
            pair.depth.set(Double(figures?.pending ?? 0))
            pair.oldest.set(figures?.oldestSeconds ?? 0)
        }
    }
}
