import Domain
import Foundation
import HTTPTypes
import Hummingbird
import OpenAPIRuntime
import Storage

/// How each error a request can end in is answered.
extension Problem {
    /// The problem that answers `error`: a problem as it is; a validation, authorisation, state or precondition
    /// error as its problem; a body or parameter that could not be decoded as a 400 naming it; the database
    /// unavailable as a 503; anything else as a 500 that says nothing internal.
    init(answering error: any Error, method: String, path: String, routes: RouteTable) {
        self = Self.answering(error, method: method, path: path, routes: routes)
    }

    private static func answering(_ error: any Error, method: String, path: String, routes: RouteTable) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let validation as ValidationError:
            return .validation(validation.problems)
        case let forbidden as Forbidden:
            return .forbidden(forbidden.reason)
        case let conflict as StateConflict:
            return .conflict(conflict.reason, allowedActions: conflict.allowedActions, errors: conflict.fields)
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
            case is DecodingError, is InvalidDateTime:
                // A body: name every field at fault, not only the first the decoder met.
                let problems = RequestInfo.current?.body.kept.map { BodyProblems.find(in: $0, operationID: serverError.operationID) } ?? []
                guard problems.isEmpty else { return .malformedBody("The body does not fit the operation: " + summary(problems), errors: problems) }
                return answering(serverError.underlyingError, method: method, path: path, routes: routes)
            case is Problem, is ValidationError, is Forbidden, is StateConflict, is PreconditionFailure, is DecodingError, is StorageError,
                is InvalidDateTime:
                return answering(serverError.underlyingError, method: method, path: path, routes: routes)
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
        // The contract requires If-Match on every change, so the runtime refuses a request without it before the
        // handler runs; the answer is still 428, as RFC 6585 has it. Any other required header missing (the
        // custody operations' Sightline-Person) is a 400 naming it. (The runtime's error type is internal: its
        // description is what can be matched, and the API tests of a change without If-Match fail if it moves.)
        let cause = String(describing: error.underlyingError)
        let prefix = "The required header field named '"
        if cause.hasPrefix(prefix), cause.hasSuffix("' is missing.") {
            let header = String(cause.dropFirst(prefix.count).dropLast("' is missing.".count))
            if header == "If-Match" { return .precondition(.missing) }
            return .validation(header == NamedPerson.header ? RequestInfo.missingPerson.problems : [.init(parameter: header, detail: "is required")])
        }
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

    /// How a problem names the JSON type `type` decodes from: "a string", "an integer", …
    static func jsonTypeName(_ type: Any.Type) -> String {
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
