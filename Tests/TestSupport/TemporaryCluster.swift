import Foundation

/// A throwaway PostgreSQL cluster of a test's own, for tests that stop or restart the server under a client
/// without disturbing the shared test cluster.
public final class TemporaryCluster: Sendable {
    /// The cluster's directory (data, socket and log).
    public let directory: String
    /// The port in the socket's name.
    public let port: Int
    private let bin = ProcessInfo.processInfo.environment["SIGHTLINE_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"

    /// The URL of the cluster's `postgres` database.
    public var url: String { "postgresql:///postgres?host=\(directory)&port=\(port)&user=sightline" }

    /// Creates and starts a cluster in a new directory under /tmp (short, so the socket path fits).
    public init() throws {
        directory = "/tmp/sl-" + UUID().uuidString.prefix(8).lowercased()
        port = Int.random(in: 40_000..<60_000)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 { try Self.run("/bin/chown", ["postgres:postgres", directory]) }
        try asOwner("\(bin)/initdb", ["-D", "\(directory)/data", "-U", "sightline", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        let settings = "listen_addresses = ''\nunix_socket_directories = '\(directory)'\nport = \(port)\nfsync = off\n"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(directory)/data/postgresql.conf"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(settings.utf8))
        try handle.close()
        try start()
    }

    /// Starts the server and waits until it accepts connections.
    public func start() throws {
        try asOwner("\(bin)/pg_ctl", ["-D", "\(directory)/data", "-l", "\(directory)/log", "-w", "-t", "60", "start"])
    }

    /// Stops the server (fast shutdown: open connections are terminated).
    public func stop() throws {
        try asOwner("\(bin)/pg_ctl", ["-D", "\(directory)/data", "-w", "-m", "fast", "stop"])
    }

    /// Stops and starts the server, terminating every open connection.
    public func restart() throws {
        try asOwner("\(bin)/pg_ctl", ["-D", "\(directory)/data", "-l", "\(directory)/log", "-w", "-m", "fast", "restart"])
    }

    /// Stops the server and deletes the cluster.
    public func destroy() {
        try? stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func asOwner(_ tool: String, _ arguments: [String]) throws {
        if getuid() == 0 {
            try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", tool] + arguments)
        } else {
            try Self.run(tool, arguments)
        }
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        let status = try ChildProcess(tool, arguments).waitForExit()
        guard status == 0 else {
            throw ClusterError(description: "\(URL(fileURLWithPath: tool).lastPathComponent) \(arguments.first ?? "") exited with \(status)")
        }
    }
}

/// A cluster command that failed.
public struct ClusterError: Error, CustomStringConvertible {
    public let description: String

    /// An error that says `description`.
    public init(description: String) { self.description = description }
}
