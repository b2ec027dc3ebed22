import Foundation
import HTTPTypes
import OpenAPIRuntime

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
