import API
import Foundation
import Hummingbird
import HummingbirdTesting
import LibPQ
import Storage
import TestSupport

/// Runs `body` against the real router over `pool`, in process.
func withApp(
    pool: PostgresPool,
    maxBodyBytes: Int = 1 << 20,
    _ body: @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let router = try SightlineServer.makeRouter(
        pool: pool, migrator: try Migrator(logger: TestDatabase.logger), metrics: APIMetrics(), maxBodyBytes: maxBodyBytes
    )
    let app = SightlineServer.makeApplication(router: router, host: "127.0.0.1", port: 0, logger: TestDatabase.logger)
    try await app.test(.router, body)
}

/// The fields of a problem document the tests look at.
struct ProblemBody: Decodable {
    let type: String
    let title: String
    let status: Int
    let detail: String?
    let instance: String?
    let request_id: String?
    let errors: [FieldError]?
    let allow: [String]?

    struct FieldError: Decodable, Equatable {
        let pointer: String
        let detail: String
    }
}

extension TestResponse {
    /// The body decoded as `T`.
    func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(buffer: body))
    }

    /// The body as text.
    var text: String { String(buffer: body) }
}

/// The repository's root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
