import HTTPTypes
import Hummingbird
import OpenAPIRuntime
import Synchronization

/// The routes the server registered, by path template, so that a request for a known path with the wrong
/// method gets 405 with `Allow` rather than 404.
final class RouteTable: Sendable {
    private let routes = Mutex<[(segments: [Substring], methods: Set<String>)]>([])

    /// Records that `method` is served at `path` (a template such as `/v1/organisations/{id}`).
    func add(method: HTTPRequest.Method, path: String) {
        let segments = path.split(separator: "/")
        routes.withLock { routes in
            if let index = routes.firstIndex(where: { $0.segments == segments }) {
                routes[index].methods.insert(method.rawValue)
            } else {
                routes.append((segments, [method.rawValue]))
            }
        }
    }

    /// The methods served at `path`, sorted, or `nil` when no route matches it. Where templates overlap, the most
    /// specific wins, as it does in the router: `/v1/cameras/export` is the export's path, not a camera's id.
    func allowedMethods(for path: String) -> [String]? {
        let segments = path.split(separator: "/")
        let methods = routes.withLock { routes in
            let matching = routes.filter { Self.matches($0.segments, segments) }
            let literals = { (template: [Substring]) in template.filter { !$0.hasPrefix("{") }.count }
            let specific = matching.map { literals($0.segments) }.max()
            return matching.filter { literals($0.segments) == specific }.reduce(into: Set<String>()) { $0.formUnion($1.methods) }
        }
        return methods.isEmpty ? nil : methods.sorted()
    }

    private static func matches(_ template: [Substring], _ path: [Substring]) -> Bool {
        template.count == path.count
            && zip(template, path).allSatisfy { pattern, segment in
                (pattern.hasPrefix("{") && pattern.hasSuffix("}")) || pattern == segment
            }
    }
}

/// Registers the generated handlers on a router and records each route in a `RouteTable`.
struct RecordingTransport<Context: RequestContext>: ServerTransport {
    let router: Router<Context>
    let table: RouteTable

    func register(
        _ handler: @escaping @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?),
        method: HTTPRequest.Method,
        path: String
    ) throws {
        table.add(method: method, path: path)
        router.register(handler, method: method, path: path)
    }
}
