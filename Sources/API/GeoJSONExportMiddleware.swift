import Foundation
import HTTPTypes
import OpenAPIRuntime

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
