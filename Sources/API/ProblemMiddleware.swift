import Hummingbird
import Logging
import OpenAPIRuntime

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
            let problem = Problem(answering: error, method: request.method.rawValue, path: request.uri.path, routes: routes)
            if problem.status == .internalServerError {
                context.logger.error("unhandled error", metadata: Self.logMetadata(error))
            } else if problem.status == .serviceUnavailable {
                context.logger.warning("database unavailable", metadata: Self.logMetadata(error))
            }
            return problem.response(path: request.uri.path, requestID: RequestInfo.current?.requestID)
        }
    }
}
