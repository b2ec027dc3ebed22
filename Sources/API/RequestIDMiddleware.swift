import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

extension HTTPField.Name {
    /// `X-Request-Id`: the id of a request, echoed on its response and on its log lines.
    static let requestID = HTTPField.Name("X-Request-Id")!
}

/// Gives every request an id (the caller's `X-Request-Id` if it is sensible), puts it on the response, on the
/// logger and in `RequestInfo`, and logs one line per request.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = SightlineRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = Self.acceptableID(request.headers[.requestID]) ?? Self.newID()
        var context = context
        context.logger[metadataKey: "request_id"] = .string(requestID)
        let start = ContinuousClock.now
        let info = RequestInfo(
            requestID: requestID, clientAddress: context.clientAddress, person: HTTPField.Name(NamedPerson.header).flatMap { request.headers[$0] })
        var response = try await RequestInfo.$current.withValue(info) { try await next(request, context) }
        response.headers[.requestID] = requestID
        let path = request.uri.path
        let quiet = path == "/healthz" || path == "/readyz" || path == "/metrics"
        context.logger.log(
            level: quiet ? .debug : .info,
            "request",
            metadata: [
                "method": .string(request.method.rawValue),
                "path": .string(path),
                "status": .stringConvertible(response.status.code),
                "duration_ms": .stringConvertible(((ContinuousClock.now - start) / .milliseconds(1)).rounded()),
            ]
        )
        return response
    }

    /// An incoming id is kept only if it is short and plain, so it cannot forge log lines or headers.
    static func acceptableID(_ value: String?) -> String? {
        guard let value, (1...64).contains(value.count),
            value.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) })
        else { return nil }
        return value
    }

    /// A new id: this process's random prefix and a counter, unique without a system call per request.
    static func newID() -> String {
        let number = RequestIDSequence.next.add(1, ordering: .relaxed).newValue
        return RequestIDSequence.prefix + "-" + String(number, radix: 16).leftPadded(to: 12)
    }
}

/// The parts of generated request ids.
enum RequestIDSequence {
    /// Random per process, so ids from different instances and restarts do not collide.
    static let prefix =
        String(UInt64.random(in: 0...UInt64.max), radix: 16).leftPadded(to: 16) + "-"
        + String(UInt32.random(in: 0...UInt32.max), radix: 16).leftPadded(to: 8)
    static let next = Atomic<UInt64>(0)
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
