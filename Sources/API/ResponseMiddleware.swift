import Foundation
import HTTPTypes
import OpenAPIRuntime
import Webhooks

/// Undoes the OpenAPI runtime's URI encoding of `ETag` and `Content-Range`: it writes header values as URI
/// components, which turns the entity tag `"3"` into `%223%22` and `bytes 0-9/10` into `bytes%200-9%2F10`. Both
/// headers here hold only visible ASCII (a quoted number or hash, a byte range), so decoding is exact.
struct EntityTagMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, responseBody) = try await next(request, body, metadata)
        for field in [HTTPField.Name.eTag, .contentRange] {
            if let value = response.headerFields[field], let decoded = value.removingPercentEncoding { response.headerFields[field] = decoded }
        }
        return (response, responseBody)
    }
}

/// Gives a GeoJSON export its media type. The generator maps `application/geo+json` (a `+json` type) to a
/// buffered JSON value, so the export handler streams both formats through the generated CSV case; this
/// middleware checks the client accepts GeoJSON, lets the CSV case through the generated `Accept` check, and
/// labels the response `application/geo+json`.
struct GeoJSONExportMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard operationID == "exportCameras",
            URLComponents(string: request.path ?? "")?.queryItems?.contains(where: { $0.name == "format" && $0.value == "geojson" }) == true
        else { return try await next(request, body, metadata) }
        if let accept = request.headerFields[.accept] {
            let ranges = accept.split(separator: ",").map { $0.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased() }
            guard ranges.contains(where: { ["*/*", "application/*", "application/geo+json"].contains($0) }) else {
                throw Problem.notAcceptable("A GeoJSON export is application/geo+json.")
            }
        }
        var forwarded = request
        forwarded.headerFields[.accept] = nil
        var (response, responseBody) = try await next(forwarded, body, metadata)
        if response.status == .ok { response.headerFields[.contentType] = "application/geo+json" }
        return (response, responseBody)
    }
}

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
