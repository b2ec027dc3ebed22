import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import HummingbirdTesting
import NIOSSL
import Synchronization

/// One request a receiver got.
public struct ReceivedWebhook: Sendable {
    public var path: String
    public var id: String
    public var timestamp: String
    public var signature: String
    public var attempt: Int
    public var body: [UInt8]
    public var at: ContinuousClock.Instant

    public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    public var type: String { json["type"] as? String ?? "" }
    public var data: [String: Any] { json["data"] as? [String: Any] ?? [:] }

    /// Whether one of the signatures is the HMAC-SHA256 of `id.timestamp.body` under `secret`, computed here
    /// with swift-crypto directly, not through the signing code under test.
    public func isSigned(by secret: String) -> Bool {
        guard let key = Data(base64Encoded: String(secret.dropFirst("whsec_".count))) else { return false }
        let message = Data((id + "." + timestamp + ".").utf8) + Data(body)
        let expected = "v1," + Data(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))).base64EncodedString()
        return signature.split(separator: " ").contains { $0 == expected }
    }
}

/// A real HTTP receiver on a local port. `/ok/<name>` answers 204; `/flaky/<name>` answers 500 to the first
/// attempt of each webhook id and 204 after; `/fail/<name>` always 500; `/hang/<name>` takes 8 s,
/// `/hang-once/<name>` not to a first attempt; `/slow/<name>` takes 300 ms, counting how many it holds at once;
/// `/gone/<name>` answers 410.
public final class WebhookReceiver: Sendable {
    /// A receiver that has received nothing.
    public init() {}

    private let received = Mutex<[ReceivedWebhook]>([])
    private let slow = Mutex<(now: Int, most: Int)>((0, 0))

    public var all: [ReceivedWebhook] { received.withLock { $0 } }
    public func on(_ path: String) -> [ReceivedWebhook] { all.filter { $0.path == path } }
    /// The most requests `/slow/…` held at one time.
    public var mostSlowAtOnce: Int { slow.withLock { $0.most } }

    private func record(_ request: Request) async throws -> ReceivedWebhook {
        let at = ContinuousClock.now
        let body = try await request.body.collect(upTo: 1 << 20)
        func header(_ name: String) -> String { request.headers[HTTPField.Name(name)!] ?? "" }
        let hook = ReceivedWebhook(
            path: request.uri.path, id: header("webhook-id"), timestamp: header("webhook-timestamp"), signature: header("webhook-signature"),
            attempt: Int(header("webhook-attempt")) ?? 0, body: Array(buffer: body), at: at
        )
        received.withLock { $0.append(hook) }
        return hook
    }

    /// Serves plain HTTP, or HTTPS with `tls`, on a free port of 127.0.0.1 while `body` runs with the base URL.
    public func run(tls: TLSConfiguration? = nil, _ body: @Sendable (_ base: String) async throws -> Void) async throws {
        let router = Router()
        router.post("/ok/:name") { request, _ in
            _ = try await self.record(request)
            return Response(status: .noContent)
        }
        router.post("/flaky/:name") { request, _ in
            let hook = try await self.record(request)
            return Response(status: hook.attempt == 1 ? .internalServerError : .noContent)
        }
        router.post("/hang/:name") { request, _ in
            _ = try await self.record(request)
            try await Task.sleep(for: .seconds(8))
            return Response(status: .noContent)
        }
        router.post("/hang-once/:name") { request, _ in
            let hook = try await self.record(request)
            if hook.attempt == 1 { try await Task.sleep(for: .seconds(4)) }
            return Response(status: .noContent)
        }
        router.post("/fail/:name") { request, _ in
            _ = try await self.record(request)
            return Response(status: .internalServerError)
        }
        router.post("/slow/:name") { request, _ in
            _ = try await self.record(request)
            self.slow.withLock {
                $0.now += 1
                $0.most = max($0.most, $0.now)
            }
            try await Task.sleep(for: .milliseconds(300))
            self.slow.withLock { $0.now -= 1 }
            return Response(status: .noContent)
        }
        router.post("/gone/:name") { request, _ in
            _ = try await self.record(request)
            return Response(status: .gone)
        }
        let app = Application(
            router: router, server: try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0))
        )
        try await app.test(.live) { server in
            guard let port = server.port else { throw ClusterError(description: "the receiver has no port") }
            try await body((tls == nil ? "http" : "https") + "://127.0.0.1:" + String(port))
        }
    }
}

/// Waits up to `timeout` for `condition`.
public func eventually(_ timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
