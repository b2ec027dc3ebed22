import Prometheus
import Storage

/// The dispatcher's Prometheus metrics: deliveries by outcome, attempt latency, and the queue's depth and
/// oldest pending age by the state of the endpoints' circuits.
public final class WebhookMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let attemptDuration: DurationHistogram

    private static var deliveries: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "sightline", subsystem: "webhook", metricName: "deliveries", unitName: "total",
            helpText: "Webhook attempts recorded, by outcome."
        )
    }
    private static var queueDepth: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "sightline", subsystem: "webhook", metricName: "queue_depth", unitName: "",
            helpText: "Webhook deliveries pending or in flight, by the state of their endpoint's circuit."
        )
    }
    private static var oldestPendingAge: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "sightline", subsystem: "webhook", metricName: "oldest_pending_age", unitName: "seconds",
            helpText: "Age of the oldest webhook delivery pending or in flight, by the state of its endpoint's circuit."
        )
    }

    /// Metrics registered in `registry` (the one `/metrics` renders).
    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        attemptDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "sightline", subsystem: "webhook", metricName: "attempt_duration", unitName: "seconds",
                helpText: "Time from the start of a webhook attempt to its response, as libcurl measured it."
            ),
            buckets: [
                .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(15),
            ]
        )
    }

    /// One attempt recorded as `outcome`, which took `duration` if a response came.
    func record(_ outcome: WebhookQueue.Recorded, duration: Duration?) {
        let name =
            switch outcome {
            case .delivered: "delivered"
            case .retrying: "retrying"
            case .failed: "failed"
            case .endpointDisabled: "endpoint_disabled"
            case .stale: "stale"
            }
        // The registry returns the counter it already has for these labels.
        registry.makeCounter(descriptor: Self.deliveries, labels: [("outcome", name)]).increment()
        if let duration { attemptDuration.record(duration) }
    }

    /// The queue's shape now; states with nothing pending read zero.
    func record(depth: [(state: String, pending: Int, oldestSeconds: Double)]) {
        for state in ["closed", "open", "half_open", "disabled"] {
            let figures = depth.first { $0.state == state }
            registry.makeGauge(descriptor: Self.queueDepth, labels: [("endpoint_state", state)]).set(Double(figures?.pending ?? 0))
            registry.makeGauge(descriptor: Self.oldestPendingAge, labels: [("endpoint_state", state)]).set(figures?.oldestSeconds ?? 0)
        }
    }
}
