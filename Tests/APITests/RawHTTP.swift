import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// HTTP/1.1 over a plain socket, for what an HTTP client hides: a connection hung up half-way, and the interim
/// `100 Continue` a client waits for before it sends a body.
final class RawHTTP {
    private let fd: Int32

    /// Connects to 127.0.0.1:`port`.
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close(fd) }

    /// Sends every byte of `data`.
    func send(_ data: Data) throws {
        var sent = 0
        try data.withUnsafeBytes { bytes in
            while sent < bytes.count {
                let n = Glibc.send(fd, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
                guard n > 0 else { throw POSIXError(.EPIPE) }
                sent += n
            }
        }
    }

    /// Sends `text` as UTF-8.
    func send(_ text: String) throws { try send(Data(text.utf8)) }

    /// What the server sends until `done` holds of it, the server closes the connection, or `timeout` passes
    /// with nothing more (a generous bound for a loaded machine: the tests wait for a condition, not a time).
    func read(timeout: Duration = .seconds(30), until done: (String) -> Bool) throws -> (text: String, closed: Bool) {
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let milliseconds = Int32(timeout.components.seconds * 1000)
        while !done(String(decoding: received, as: UTF8.self)) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, milliseconds) > 0 else { break }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return (String(decoding: received, as: UTF8.self), true) }
            received.append(contentsOf: buffer[0..<n])
        }
        return (String(decoding: received, as: UTF8.self), false)
    }

    /// Whether the server has closed the connection (waiting up to `timeout` for it to).
    func closedByServer(timeout: Duration = .seconds(30)) throws -> Bool { try read(timeout: timeout) { _ in false }.closed }

    /// Connects to 127.0.0.1:`port`, sends `head` and `body`, and closes without waiting for an answer.
    static func sendAndHangUp(port: Int, head: String, body: Data) throws {
        let connection = try RawHTTP(port: port)
        try connection.send(head)
        try connection.send(body)
    }
}
