import Foundation
import Prometheus

/// Each job's runs, failures, last success and duration, in the registry `/metrics` renders.
public final class JobMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry

    private static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
        .seconds(30), .seconds(120),
    ]

    private static var runs: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "sightline", subsystem: "job", metricName: "runs", unitName: "total", helpText: "Job runs that succeeded, by job.")
    }
    private static var failures: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "sightline", subsystem: "job", metricName: "failures", unitName: "total", helpText: "Job runs that failed, by job.")
    }
    private static var lastSuccess: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "sightline", subsystem: "job", metricName: "last_success_timestamp", unitName: "seconds",
            helpText: "When each job last succeeded, in seconds since 1970 by the application's clock."
        )
    }
    private static var duration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "sightline", subsystem: "job", metricName: "duration", unitName: "seconds", helpText: "Time each job run took.")
    }

    /// Metrics registered in `registry`.
    public init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    /// Registers every series of `jobs` at zero, so a job that has not yet run reads 0 rather than being absent.
    public func register(_ jobs: [String]) {
        for job in jobs {
            _ = registry.makeCounter(descriptor: Self.runs, labels: [("job", job)])
            _ = registry.makeCounter(descriptor: Self.failures, labels: [("job", job)])
            _ = registry.makeGauge(descriptor: Self.lastSuccess, labels: [("job", job)])
            _ = histogram(job)
        }
    }

    func recordSuccess(_ job: String, duration: Duration, at time: Date) {
        registry.makeCounter(descriptor: Self.runs, labels: [("job", job)]).increment()
        registry.makeGauge(descriptor: Self.lastSuccess, labels: [("job", job)]).set(time.timeIntervalSince1970)
        histogram(job).record(duration)
    }

    func recordFailure(_ job: String, duration: Duration) {
        registry.makeCounter(descriptor: Self.failures, labels: [("job", job)]).increment()
        histogram(job).record(duration)
    }

    private func histogram(_ job: String) -> DurationHistogram {
        registry.makeDurationHistogram(descriptor: Self.duration, labels: [("job", job)], buckets: Self.durationBuckets)
    }
}
