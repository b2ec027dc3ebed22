import Foundation
import Hummingbird
import Storage

extension SightlineServer {
    /// The router of a worker process (`sightline worker`, `serve --role worker`): only `/healthz`, `/readyz` and
    /// `/metrics`, answered as the API answers them, so that an orchestrator can probe a worker and Prometheus
    /// can scrape its jobs and dispatcher.
    public static func makeOperationsRouter(_ database: Database, migrator: Migrator, metrics: APIMetrics) -> Router<SightlineRequestContext> {
        let router = Router(context: SightlineRequestContext.self)
        let health = DatabaseHealth(database, migrator: migrator)
        router.get("healthz") { _, _ in
            try json(.ok, Health(status: "ok"))
        }
        router.get("readyz") { _, _ in
            let readiness = await health.readiness()
            let body = ReadinessBody(
                status: readiness.isReady ? "ready" : "not_ready", checks: .init(database: readiness.database, schema: readiness.schema)
            )
            return try json(readiness.isReady ? .ok : .serviceUnavailable, body)
        }
        router.get("metrics") { _, _ in
            metrics.recordPool(database.statistics)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: metrics.render()))
            )
        }
        return router
    }

    private struct Health: Encodable {
        let status: String
    }

    private struct ReadinessBody: Encodable {
        struct Checks: Encodable {
            let database: String
            let schema: String
        }
        let status: String
        let checks: Checks
    }

    private static func json(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(value)))
        )
    }
}
