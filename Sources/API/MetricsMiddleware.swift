import Hummingbird

/// Counts requests and times them, by operation (method and route template) and status.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: APIMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        let operation = route == "NotFound" ? "unmatched" : "\(request.method.rawValue) \(route)"
        metrics.recordRequest(operation: operation, status: response.status.code, duration: ContinuousClock.now - start)
        return response
    }
}
