import Domain
import HTTPTypes
import Hummingbird

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
