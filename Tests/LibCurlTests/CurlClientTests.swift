import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LibCurl
import Synchronization
import Testing

@Suite("LibCurl: real HTTP to a local server")
struct CurlClientTests {
    /// Runs `body` with a client and the base URL of a live local server.
    private func withServer(_ body: @Sendable (CurlClient, String, ServerCounters) async throws -> Void) async throws {
        let counters = ServerCounters()
        let app = Application(router: Self.router(counters), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let client = CurlClient()
        try await app.test(.live) { server in
            let port = try #require(server.port)
            try await body(client, "http://127.0.0.1:\(port)", counters)
        }
        client.shutdown()
    }

    private static func router(_ counters: ServerCounters) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/status/:code") { _, context in
            let code = try context.parameters.require("code", as: Int.self)
            return Response(
                status: .init(code: code), headers: [.contentType: "text/plain", HTTPField.Name("X-Test")!: "yes"],
                body: .init(byteBuffer: ByteBuffer(string: "status \(code)"))
            )
        }
        router.post("/echo") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            return Response(
                status: .created,
                headers: [
                    HTTPField.Name("X-Method")!: request.method.rawValue,
                    HTTPField.Name("X-Custom-Seen")!: request.headers[HTTPField.Name("X-Custom")!] ?? "",
                ],
                body: .init(byteBuffer: body)
            )
        }
        router.get("/slow") { request, _ in
            counters.enter()
            defer { counters.leave() }
            let milliseconds = request.uri.queryParameters.get("ms", as: Int.self) ?? 100
            try await Task.sleep(for: .milliseconds(milliseconds))
            return "slow"
        }
        router.get("/bytes/:count") { _, context in
            let count = try context.parameters.require("count", as: Int.self)
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: UInt8(ascii: "a"), count: count)))
        }
        router.get("/redirect") { _, _ in
            Response(status: .found, headers: [.location: "/status/200"])
        }
        return router
    }

    @Test func returnsStatusHeadersBodyAddressAndTimingsWhateverTheStatus() async throws {
        try await withServer { client, base, _ in
            for code in [200, 204, 404, 422, 500, 503] {
                let response = try await client.execute(CurlRequest(url: "\(base)/status/\(code)"))
                #expect(response.status == code)
                #expect(response.header("x-test") == "yes")
                if code != 204 { #expect(String(decoding: response.body, as: UTF8.self) == "status \(code)") }
                #expect(response.connectedIP == "127.0.0.1")
                #expect(response.timings.total > .zero)
                #expect(response.timings.connect <= response.timings.firstByte)
                #expect(response.timings.firstByte <= response.timings.total)
                #expect(!response.bodyTruncated)
            }
        }
    }

    @Test func sendsMethodHeadersAndBody() async throws {
        try await withServer { client, base, _ in
            let payload = Array(#"{"type":"webhook.test","data":{"id":"Ünï"}}"#.utf8)
            let response = try await client.execute(
                CurlRequest(
                    method: "POST", url: "\(base)/echo",
                    headers: [CurlHeader("Content-Type", "application/json"), CurlHeader("X-Custom", "value 1")], body: payload
                )
            )
            #expect(response.status == 201)
            #expect(response.body == payload)
            #expect(response.header("X-Method") == "POST")
            #expect(response.header("X-Custom-Seen") == "value 1")
        }
    }

    @Test func capsTheBodyAndEndsTheTransferThere() async throws {
        try await withServer { client, base, _ in
            let response = try await client.execute(CurlRequest(url: "\(base)/bytes/100000", maxResponseBodyBytes: 4096))
            #expect(response.status == 200)
            #expect(response.body.count == 4096)
            #expect(response.bodyTruncated)
            let small = try await client.execute(CurlRequest(url: "\(base)/bytes/4096", maxResponseBodyBytes: 4096))
            #expect(small.body.count == 4096)
            #expect(!small.bodyTruncated)
        }
    }

    @Test func doesNotFollowRedirectsUnlessAsked() async throws {
        try await withServer { client, base, _ in
            let plain = try await client.execute(CurlRequest(url: "\(base)/redirect"))
            #expect(plain.status == 302)
            #expect(plain.header("location") == "/status/200")
            let followed = try await client.execute(CurlRequest(url: "\(base)/redirect", followRedirects: true))
            #expect(followed.status == 200)
        }
    }

    @Test func refusesSchemesThatAreNotAllowed() async throws {
        try await withServer { client, base, _ in
            let error = try await #require(throws: CurlError.self) {
                try await client.execute(CurlRequest(url: "\(base)/status/200", allowedProtocols: [.https]))
            }
            #expect(error.code == .invalidURL)
            let file = try await #require(throws: CurlError.self) { try await client.execute(CurlRequest(url: "file:///etc/passwd")) }
            #expect(file.code == .invalidURL)
        }
    }

    @Test func reportsConnectionRefusedWithCurlsOwnMessage() async throws {
        let client = CurlClient()
        defer { client.shutdown() }
        let port = try closedPort()
        let error = try await #require(throws: CurlError.self) { try await client.execute(CurlRequest(url: "http://127.0.0.1:\(port)/")) }
        #expect(error.code == .couldNotConnect)
        #expect(error.curlCode == 7)
        #expect(error.message.contains("127.0.0.1"))
    }

    @Test func timesOutConnectingAndTransferring() async throws {
        // A listener whose accept queue is full drops new SYNs, so connecting hangs until the connect timeout.
        let blackhole = try FullListener()
        defer { blackhole.close() }
        let client = CurlClient()
        defer { client.shutdown() }
        let connect = try await #require(throws: CurlError.self) {
            try await client.execute(CurlRequest(url: "http://127.0.0.1:\(blackhole.port)/", connectTimeout: .milliseconds(300)))
        }
        #expect(connect.code == .connectTimeout)

        try await withServer { client, base, _ in
            let total = try await #require(throws: CurlError.self) {
                try await client.execute(CurlRequest(url: "\(base)/slow?ms=3000", timeout: .milliseconds(300)))
            }
            #expect(total.code == .timeout)
            #expect(total.curlCode == 28)
        }
    }

    @Test func addressFilterSeesTheResolvedAddressAndCanRefuseIt() async throws {
        try await withServer { client, base, counters in
            let seen = Mutex<[CurlAddress]>([])
            let refused = try await #require(throws: CurlError.self) {
                try await client.execute(
                    CurlRequest(url: base.replacingOccurrences(of: "127.0.0.1", with: "localhost") + "/slow?ms=1") { address in
                        seen.withLock { $0.append(address) }
                        return false
                    }
                )
            }
            #expect(refused.code == .addressRefused)
            let addresses = seen.withLock { $0 }
            #expect(!addresses.isEmpty)
            #expect(addresses.contains { $0.text == "127.0.0.1" && $0.family == .ipv4 && $0.bytes == [127, 0, 0, 1] })
            #expect(counters.total == 0)

            let allowed = try await client.execute(CurlRequest(url: "\(base)/slow?ms=1") { $0.text == "127.0.0.1" })
            #expect(allowed.status == 200)
            #expect(counters.total == 1)
        }
    }

    @Test func runsFiftyTransfersAtOnce() async throws {
        try await withServer { client, base, counters in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<50 { group.addTask { try await client.execute(CurlRequest(url: "\(base)/slow?ms=400")).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 50))
            // Served side by side, not one after another.
            #expect(counters.peak >= 25)
        }
    }

    @Test func failsTransfersCleanlyAfterShutdown() async throws {
        let client = CurlClient()
        client.shutdown()
        let error = try await #require(throws: CurlError.self) { try await client.execute(CurlRequest(url: "http://127.0.0.1:1/")) }
        #expect(error.code == .shutdown)
    }
}

/// Counts requests to `/slow`, and the most in flight at once.
final class ServerCounters: Sendable {
    private let state = Mutex((current: 0, peak: 0, total: 0))

    var peak: Int { state.withLock { $0.peak } }
    var total: Int { state.withLock { $0.total } }

    func enter() {
        state.withLock { state in
            state.current += 1
            state.total += 1
            state.peak = max(state.peak, state.current)
        }
    }

    func leave() { state.withLock { $0.current -= 1 } }
}

/// A port on 127.0.0.1 with nothing listening.
func closedPort() throws -> Int {
    let listener = try FullListener(fill: false)
    listener.close()
    return listener.port
}

/// A TCP listener on 127.0.0.1 that never accepts, with its accept queue filled so further SYNs are dropped.
final class FullListener {
    let port: Int
    private var descriptors: [Int32] = []

    init(fill: Bool = true) throws {
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        descriptors.append(server)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(server, 0) == 0 else { throw CurlError.Code.other }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(server, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        guard fill else { return }
        for _ in 0..<4 {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            descriptors.append(client)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        usleep(100_000)
    }

    func close() {
        for descriptor in descriptors { Glibc.close(descriptor) }
        descriptors = []
    }
}

extension CurlError.Code: Error {}
