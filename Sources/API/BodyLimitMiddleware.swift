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
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem.contentTooLarge(limit: maxBytes)
        }
        // A JSON body is checked against the grammar before anything decodes it, and kept for the request so that
        // a body the generated decoder refuses can be answered naming every field at fault (`BodyProblems`).
        if request.headers[.contentType]?.lowercased().contains("json") == true, body.readableBytes > 0 {
            let bytes = Array(body.readableBytesView)
            do {
                try StrictJSON.check(bytes)
            } catch {
                throw Problem.malformedBody("The body is not valid JSON: \(error.reason), at byte \(error.offset).")
            }
            RequestInfo.current?.body.keep(bytes)
        }
        return try await next(request, context)
    }
}
