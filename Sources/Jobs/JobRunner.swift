import Domain
import Foundation
import Logging
import ServiceLifecycle

/// Runs one job every `interval` while the workers run, and once more at shutdown so that nothing due before
/// shutdown waits for the next start. Each run reads the clock once. A failure is logged once (and its
/// recovery), and retried no sooner than every five seconds.
public struct JobRunner: Service {
    /// The job it runs.
    public let job: any Job
    private let clock: any WallClock
    private let metrics: JobMetrics
    private let logger: Logger

    /// A runner for `job`, reading `clock` and recording into `metrics`.
    public init(_ job: any Job, clock: any WallClock, metrics: JobMetrics, logger: Logger) {
        self.job = job
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
    }

    /// One run as of the clock's now, measured and counted.
    public func runOnce() async throws {
        let started = ContinuousClock.now
        do {
            try await job.run(now: clock.now())
            metrics.recordSuccess(job.name, duration: ContinuousClock.now - started, at: clock.now())
        } catch {
            metrics.recordFailure(job.name, duration: ContinuousClock.now - started)
            throw error
        }
    }

    public func run() async throws {
        var failing = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await runOnce()
                if failing { logger.info("job recovered", metadata: ["job": "\(job.name)"]) }
                failing = false
            } catch {
                if !failing { logger.warning("job failed; retrying", metadata: ["job": "\(job.name)", "error": "\(error)"]) }
                failing = true
            }
            let pause = failing ? max(job.interval, .seconds(5)) : job.interval
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            } catch {
                break
            }
        }
        // Cancelled rather than shut down gracefully: stop at once.
        guard !Task.isCancelled else { return }
        do { try await runOnce() } catch { logger.warning("job failed at shutdown", metadata: ["job": "\(job.name)", "error": "\(error)"]) }
    }
}
