import Prometheus
import Storage
import Synchronization

/// The service's Prometheus metrics: HTTP requests by operation and status, and the database pool.
public final class APIMetrics: Sendable {
    /// The registry every metric lives in; `/metrics` renders it.
    public let registry: PrometheusCollectorRegistry

    private static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    /// The request metrics of each operation and status, looked up once: the registry's own lookup hashes
    /// every label on every call.
    private let requestMetrics = Mutex<[RequestKey: (count: Counter, duration: DurationHistogram)]>([:])

    private struct RequestKey: Hashable {
        let operation: String
        let status: Int
    }

    /// Metrics in a registry of their own.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    private static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "sightline", subsystem: "http", metricName: "requests", unitName: "total",
            helpText: "HTTP requests served, by operation and status."
        )
    }
    private static var requestDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "sightline", subsystem: "http", metricName: "request_duration", unitName: "seconds",
            helpText: "Time to serve an HTTP request, by operation."
        )
    }
    private static var poolConnections: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "sightline", subsystem: "db_pool", metricName: "connections", unitName: "",
            helpText: "Database connections by state."
        )
    }
    private static var poolMax: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "sightline", subsystem: "db_pool", metricName: "max_connections", unitName: "",
            helpText: "The pool's connection limit."
        )
    }
    private static var poolWaiting: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "sightline", subsystem: "db_pool", metricName: "waiting", unitName: "",
            helpText: "Borrowers waiting for a database connection."
        )
    }

    /// Records one served request. `operation` is the method and route template, never a concrete path.
    func recordRequest(operation: String, status: Int, duration: Duration) {
        let key = RequestKey(operation: operation, status: status)
        let metrics = requestMetrics.withLock { cache in
            if let metrics = cache[key] { return metrics }
            let metrics = (
                count: registry.makeCounter(descriptor: Self.requests, labels: [("operation", operation), ("status", String(status))]),
                duration: registry.makeDurationHistogram(
                    descriptor: Self.requestDuration, labels: [("operation", operation)], buckets: Self.durationBuckets
                )
            )
            cache[key] = metrics
            return metrics
        }
        metrics.count.increment()
        metrics.duration.record(duration)
    }

    /// Sets the pool gauges from a snapshot taken at scrape time.
    func recordPool(_ statistics: PoolStatistics) {
        registry.makeGauge(descriptor: Self.poolConnections, labels: [("state", "idle")]).set(Double(statistics.idle))
        registry.makeGauge(descriptor: Self.poolConnections, labels: [("state", "in_use")]).set(Double(statistics.inUse))
        registry.makeGauge(descriptor: Self.poolMax).set(Double(statistics.max))
        registry.makeGauge(descriptor: Self.poolWaiting).set(Double(statistics.waiting))
    }

    /// The metrics in the Prometheus text format.
    func render() -> String { registry.emitToString() }
}
