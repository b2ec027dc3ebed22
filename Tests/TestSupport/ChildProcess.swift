import Foundation

/// A child process started with posix_spawn, its standard output and error written to a file of its own.
///
/// Foundation's `Process.waitUntilExit` can hang when called from a Swift concurrency thread, so tests use
/// this instead.
public struct ChildProcess: Sendable {
    /// The child's process id.
    public let pid: pid_t
    /// The file its output goes to.
    public let outputPath: String

    /// Starts `path` with `arguments` and the current environment plus `environment`.
    public init(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let outputPath = FileManager.default.temporaryDirectory.path + "/sightline-child-" + UUID().uuidString + ".log"
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid = pid_t()
        let result = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard result == 0 else { throw ClusterError(description: "cannot start \(path): error \(result)") }
        self.pid = pid
        self.outputPath = outputPath
    }

    /// What it has written so far, standard output and error together.
    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Blocks until the process exits; returns its exit code, or minus the signal that ended it.
    public func waitForExit() throws -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw ClusterError(description: "waitpid failed: \(errno)") }
        }
        return Self.decode(status)
    }

    /// Waits up to `timeout` without blocking a thread; returns as `waitForExit` does, or kills the process and
    /// throws when it has not exited by then.
    public func exitStatus(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return Self.decode(status) }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGKILL)
        throw ClusterError(description: "process \(pid) did not exit within \(timeout)")
    }

    private static func decode(_ status: Int32) -> Int32 {
        status & 0x7f == 0 ? (status >> 8) & 0xff : -(status & 0x7f)
    }
}
