import Domain
import Foundation
import HTTPTypes
import Hummingbird

/// An RFC 9457 problem: what the API answers whenever a request cannot be served.
///
/// Handlers throw these (or a `ValidationError`, which becomes one); `ProblemMiddleware` turns every error,
/// including ones it does not recognise, into a problem response that says nothing internal.
struct Problem: Error, Sendable {
    /// The HTTP status.
    var status: HTTPResponse.Status
    /// The last part of the stable `type` URI, e.g. `not-found`.
    var slug: String
    /// A summary that is the same for every occurrence of this kind of problem.
    var title: String
    /// What went wrong this time.
    var detail: String?
    /// For validation problems, each field at fault.
    var errors: [FieldProblem] = []
    /// For 405, the methods the resource allows.
    var allow: [String]? = nil
    /// Extra response headers, such as `Retry-After`.
    var headers: HTTPFields = [:]
    /// For a 409 from a state machine, the moves the resource allows now.
    var allowedActions: [String]? = nil

    /// The prefix of every problem `type`.
    static let typePrefix = "urn:sightline:problem:"

    /// 400 listing every field at fault in `errors`; the detail names the first few, so that one line (a log,
    /// a client's error message) says what to fix: "/event_types/1 is not an event type."
    static func validation(_ problems: [FieldProblem]) -> Problem {
        Problem(status: .badRequest, slug: "validation", title: "The request is not valid", detail: summary(problems), errors: problems)
    }

    /// The first few of `problems` in one sentence: "/offence is required; /priority must be one of urgent, standard."
    static func summary(_ problems: [FieldProblem]) -> String {
        let shown = problems.prefix(3).map { $0.pointer.replacingOccurrences(of: "#/parameters/", with: "") + " " + $0.detail }
        let more = problems.count > shown.count ? "; and \(problems.count - shown.count) more" : ""
        return shown.joined(separator: "; ") + more + "."
    }

    static func malformedBody(_ detail: String, errors: [FieldProblem] = []) -> Problem {
        Problem(status: .badRequest, slug: "malformed-request", title: "The request could not be read", detail: detail, errors: errors)
    }

    /// 400: an operation that takes a JSON body was sent something else.
    static let notJSON = malformedBody("The body must be JSON.")

    /// 409: the change does not fit the resource's state.
    static func conflict(_ detail: String, allowedActions: [String]? = nil, errors: [FieldProblem] = []) -> Problem {
        Problem(
            status: .conflict, slug: "conflict", title: "Conflict with the resource's state", detail: detail, errors: errors,
            allowedActions: allowedActions)
    }

    static func notFound(_ detail: String = "There is no such resource.") -> Problem {
        Problem(status: .notFound, slug: "not-found", title: "Not found", detail: detail)
    }

    static func methodNotAllowed(_ method: String, allow: [String]) -> Problem {
        var headers = HTTPFields()
        headers[.allow] = allow.joined(separator: ", ")
        return Problem(
            status: .methodNotAllowed, slug: "method-not-allowed", title: "Method not allowed",
            detail: "This resource does not support \(method); it supports \(allow.joined(separator: ", ")).", allow: allow,
            headers: headers
        )
    }

    /// 428 when a change did not send `If-Match`; 412, with the current `ETag`, when it named an old version.
    static func precondition(_ failure: PreconditionFailure) -> Problem {
        switch failure {
        case .missing:
            return Problem(
                status: .preconditionRequired, slug: "precondition-required", title: "If-Match required",
                detail: "Send If-Match with the ETag of the version you are changing."
            )
        case .stale(let current):
            var headers = HTTPFields()
            headers[.eTag] = current
            return Problem(
                status: .preconditionFailed, slug: "precondition-failed", title: "Changed since you read it",
                detail: "The resource has changed; it is now at ETag \(current). Read it again and retry.", headers: headers
            )
        case .malformed(let header):
            let quoted = header.count > 40 ? String(header.prefix(40)) + "…" : header
            return .validation([
                .init(
                    parameter: "If-Match",
                    detail: "\"\(quoted)\" is not an entity tag: quote the ETag as the server sent it, e.g. If-Match: \"3\" (or *)")
            ])
        }
    }

    static func contentTooLarge(limit: Int?) -> Problem {
        Problem(
            status: .contentTooLarge, slug: "content-too-large", title: "Request body too large",
            detail: limit.map { "Request bodies may be at most \($0) bytes." } ?? "The request body is too large."
        )
    }

    static func unsupportedMediaType(_ detail: String) -> Problem {
        Problem(status: .unsupportedMediaType, slug: "unsupported-media-type", title: "Unsupported media type", detail: detail)
    }

    static func notAcceptable(_ detail: String) -> Problem {
        Problem(status: .notAcceptable, slug: "not-acceptable", title: "Not acceptable", detail: detail)
    }

    static func serviceUnavailable(retryAfterSeconds: Int = 5) -> Problem {
        var headers = HTTPFields()
        headers[.retryAfter] = String(retryAfterSeconds)
        return Problem(
            status: .serviceUnavailable, slug: "service-unavailable", title: "Service unavailable",
            detail: "The database cannot be reached just now; retry shortly.", headers: headers
        )
    }

    static let internalError = Problem(
        status: .internalServerError, slug: "internal", title: "Internal error",
        detail: "The server failed to handle this request. Quote the request id when reporting it."
    )

    /// A problem for any other 4xx status.
    static func clientError(_ status: HTTPResponse.Status, detail: String) -> Problem {
        Problem(status: status, slug: "http-\(status.code)", title: status.reasonPhrase, detail: detail)
    }

    /// The problem as a response, for the request `path` with `requestID`.
    func response(path: String, requestID: String?) -> Response {
        let body = Components.Schemas.Problem(
            _type: Self.typePrefix + slug,
            title: title,
            status: status.code,
            detail: detail,
            instance: path,
            requestId: requestID,
            errors: errors.isEmpty ? nil : errors.map { .init(pointer: $0.pointer, detail: $0.detail) },
            allow: allow,
            allowedActions: allowedActions
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(body)) ?? Data("{\"status\":\(status.code)}".utf8)
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
