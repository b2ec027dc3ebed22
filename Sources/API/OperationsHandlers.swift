import Foundation
import OpenAPIRuntime
import Storage

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.yaml`.
extension SightlineAPI {
    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok))))
    }

    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        let readiness = await health.readiness()
        let checks = Components.Schemas.Readiness.ChecksPayload(database: readiness.database, schema: readiness.schema)
        if readiness.isReady {
            return .ok(.init(body: .json(.init(status: .ready, checks: checks))))
        }
        return .serviceUnavailable(.init(body: .json(.init(status: .notReady, checks: checks))))
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        metrics.recordPool(database.statistics)
        return .ok(.init(body: .plainText(HTTPBody(metrics.render()))))
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(Self.openAPIDocument))))
    }

    /// The contract this server was generated from, embedded at build time.
    static let openAPIDocument: String = EmbeddedFiles.all.first { $0.name == "openapi.yaml" }?.contents ?? ""
}
