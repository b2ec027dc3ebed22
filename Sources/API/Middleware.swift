import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime
import Storage
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
        let info = RequestInfo(requestID: requestID, clientAddress: context.clientAddress)
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

/// Counts requests and times them, by operation (method and route template) and status.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: APIMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        let operation = route == "NotFound" ? "unmatched" : "\(request.method.rawValue) \(route)"
        metrics.recordRequest(operation: operation, status: response.status.code, duration: ContinuousClock.now - start)
        return response
    }
}

/// Refuses request bodies over the limit with 413, whether or not they declare their length, before any
/// handler reads them.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let defaultMaxBytes: Int
    /// Larger limits for paths that take files rather than JSON documents.
    var largerLimits: [String: Int] = ["/v1/cameras/import": CameraImport.maximumBytes]

    init(maxBytes: Int) { defaultMaxBytes = maxBytes }

    /// Whether the request uploads evidence content: streamed to disk by its handler, which holds it to the size
    /// registered, so it is neither collected here nor limited.
    static func isStreamedUpload(_ request: Request) -> Bool {
        let parts = request.uri.path.split(separator: "/")
        return request.method == .put && parts.count == 4 && parts[0] == "v1" && parts[1] == "evidence-items" && parts[3] == "content"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.isStreamedUpload(request) { return try await next(request, context) }
        let maxBytes = largerLimits[request.uri.path] ?? defaultMaxBytes
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maxBytes {
            throw Problem.contentTooLarge(limit: maxBytes)
        }
        guard request.headers[.contentLength] != nil || request.headers[.transferEncoding] != nil else {
            return try await next(request, context)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: maxBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem.contentTooLarge(limit: maxBytes)
        }
        return try await next(request, context)
    }
}

extension ProblemMiddleware {
    /// What the log says of `error`. A `ServerError` describes the whole request, headers and all, so only its
    /// operation and underlying error are logged: an `Authorization` header must never reach a log line.
    static func logMetadata(_ error: any Error) -> Logger.Metadata {
        guard let serverError = error as? ServerError else { return ["error": "\(String(reflecting: error))"] }
        return ["operation": "\(serverError.operationID)", "error": "\(String(reflecting: serverError.underlyingError))"]
    }
}

/// Turns every error into an RFC 9457 problem response. Errors it does not recognise become a 500 that says
/// nothing internal; the error itself goes to the log with the request id.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Self.problem(for: error, method: request.method.rawValue, path: request.uri.path, routes: routes)
            if problem.status == .internalServerError {
                context.logger.error("unhandled error", metadata: Self.logMetadata(error))
            } else if problem.status == .serviceUnavailable {
                context.logger.warning("database unavailable", metadata: Self.logMetadata(error))
            }
            return problem.response(path: request.uri.path, requestID: RequestInfo.current?.requestID)
        }
    }

    /// The problem that answers `error`.
    static func problem(for error: any Error, method: String, path: String, routes: RouteTable) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let validation as ValidationError:
            return .validation(validation.problems)
        case let forbidden as Forbidden:
            return .forbidden(forbidden.reason)
        case let conflict as StateConflict:
            return .conflict(conflict.reason, allowedActions: conflict.allowedActions)
        case let precondition as PreconditionFailure:
            return .precondition(precondition)
        case let decoding as DecodingError:
            return problem(decoding)
        case let time as InvalidDateTime:
            let quoted = time.text.count > 40 ? String(time.text.prefix(40)) + "…" : time.text
            return .malformedBody("\"\(quoted)\" is not an RFC 3339 date-time, such as 2026-11-21T09:30:00Z or 2026-11-21T09:30:00.250+01:00.")
        case let storage as StorageError where storage.kind == .unavailable:
            return .serviceUnavailable()
        case let storage as StorageError where storage.kind == .unstorableText:
            return .malformedBody("Text may not contain the NUL character (U+0000).")
        case let serverError as ServerError:
            switch serverError.underlyingError {
            case let decoding as DecodingError where serverError.request.method == .get || serverError.request.method == .head:
                // Nothing but parameters is decoded for a GET: say which one.
                return parameterProblem(decoding, path: serverError.request.path ?? path)
            case is Problem, is ValidationError, is Forbidden, is StateConflict, is PreconditionFailure, is DecodingError, is StorageError,
                is InvalidDateTime:
                return problem(for: serverError.underlyingError, method: method, path: path, routes: routes)
            default:
                return problem(serverError)
            }
        case let http as HTTPError:
            if http.status == .notFound, let allow = routes.allowedMethods(for: path) {
                return .methodNotAllowed(method, allow: allow)
            }
            if http.status == .notFound { return .notFound("No resource at \(path).") }
            if http.status == .contentTooLarge { return .contentTooLarge(limit: nil) }
            if (400..<500).contains(http.status.code) { return .clientError(http.status, detail: http.body ?? http.status.reasonPhrase) }
            return .internalError
        default:
            return .internalError
        }
    }

    /// A body that is not JSON, or not the JSON the operation takes: name the field where one is known.
    private static func problem(_ error: DecodingError) -> Problem {
        func pointer(_ path: [any CodingKey]) -> String {
            "/" + path.map { $0.intValue.map(String.init) ?? Self.snakeCase($0.stringValue) }.joined(separator: "/")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = pointer(context.codingPath + [key])
            return .malformedBody("The field \(field) is required.", errors: [.init(pointer: field, detail: "is required")])
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            guard !context.codingPath.isEmpty else {
                // OpenAPI's parameter decoder does not say which parameter failed.
                return .malformedBody("A parameter or the body has a value of the wrong type: expected \(Self.jsonTypeName(type)).")
            }
            let field = pointer(context.codingPath)
            return .malformedBody(
                "The field \(field) has the wrong type.", errors: [.init(pointer: field, detail: "must be \(Self.jsonTypeName(type))")]
            )
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return .malformedBody("The body is not valid JSON.") }
            if context.debugDescription.hasPrefix("Additional properties are disabled"), let unknown = context.codingPath.last {
                // The runtime names the first unknown key (sorted): as the client spelled it.
                let parent = Array(context.codingPath.dropLast())
                let key = unknown.stringValue.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                let field = (parent.isEmpty ? "" : pointer(parent)) + "/" + key
                return .malformedBody(
                    "The field \(field) is not one this request takes.", errors: [.init(pointer: field, detail: "is not a field of this request")]
                )
            }
            let field = pointer(context.codingPath)
            return .malformedBody("The field \(field) has an invalid value.", errors: [.init(pointer: field, detail: "is not a valid value")])
        @unknown default:
            return .malformedBody("The body could not be read.")
        }
    }

    /// A query parameter the runtime could not decode. Its decoder does not say which, so the parameter is
    /// found from the error: the one holding the rejected enum value, or the one that is not of the type expected.
    private static func parameterProblem(_ error: DecodingError, path: String) -> Problem {
        let items = URLComponents(string: path)?.queryItems ?? []
        var culprit: URLQueryItem?
        switch error {
        case .dataCorrupted(let context):
            culprit = items.first { item in item.value.map { !$0.isEmpty && context.debugDescription.hasSuffix("value " + $0) } ?? false }
        case .typeMismatch(let type, _):
            if type == Double.self || type == Float.self {
                culprit = items.first { $0.value.map { Double($0) == nil } ?? false }
            } else if type == Int.self || type == Int32.self || type == Int64.self {
                culprit = items.first { $0.value.map { Int($0) == nil } ?? false }
            }
        default:
            break
        }
        guard let culprit else { return .malformedBody("A query parameter has a value that is not allowed.") }
        return .validation([.init(parameter: culprit.name, detail: "is not an allowed value")])
    }

    /// A 4xx the OpenAPI runtime raised while decoding the request (a bad parameter, a wrong content type).
    private static func problem(_ error: ServerError) -> Problem {
        switch error.httpStatus {
        case .unsupportedMediaType: return .unsupportedMediaType(error.causeDescription)
        case .notAcceptable: return .notAcceptable(error.causeDescription)
        case .notFound: return .notFound()
        case let status where (400..<500).contains(status.code): return .malformedBody(error.causeDescription)
        default: return .internalError
        }
    }

    private static func snakeCase(_ key: String) -> String {
        var result = ""
        for character in key {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int32.Type, is Int64.Type, is Int16.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "true or false"
        case is [Any].Type: "an array"
        default: "an object"
        }
    }
}
