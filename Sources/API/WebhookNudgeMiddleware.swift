import Foundation
import HTTPTypes
import OpenAPIRuntime
import Webhooks

/// Tells the webhook dispatchers, once a change has committed, that there may be events to send: after every
/// successful request other than a read. The NOTIFY goes out after the response is made, never from inside the
/// change's transaction; a dispatcher that misses it finds the events within its polling interval anyway.
struct WebhookNudgeMiddleware: ServerMiddleware {
    let nudge: WebhookNudge

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let (response, responseBody) = try await next(request, body, metadata)
        if request.method != .get && request.method != .head && response.status.code < 400 { nudge.eventsWritten() }
        return (response, responseBody)
    }
}
