import Foundation

/// A piece of periodic work the workers run (`sightline serve --role worker|all`, `sightline worker`).
///
/// Any number of instances run every job at once, so each run must be safe beside another instance's: a job
/// claims its rows with `FOR UPDATE SKIP LOCKED`, takes an advisory lock, or does work that is harmless when
/// done twice. Each job says which in its documentation.
public protocol Job: Sendable {
    /// Its name in logs and metrics, e.g. `evidence-alerts`.
    var name: String { get }
    /// How long to wait between the end of one run and the start of the next.
    var interval: Duration { get }
    /// Does everything due as of `now`.
    func run(now: Date) async throws
}
