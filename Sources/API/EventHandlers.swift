import Domain
import Foundation
import OpenAPIRuntime
import Storage

/// `/v1/events`.
extension SightlineAPI {
    func listEvents(_ input: Operations.ListEvents.Input) async throws -> Operations.ListEvents.Output {
        let caller = try Caller.required()
        let page = try PageRequest(limit: input.query.limit.map(Int.init), cursor: input.query.cursor)
        let result = try await events.list(for: caller.organisationID, includeCovert: caller.covertAccess, page: page)
        let items = try result.items.map(Components.Schemas.Event.init)
        let covert = result.items.filter(\.covert)
        if !covert.isEmpty {
            try await auditCovertRead(
                cameras: covert.compactMap { $0.subject.hasPrefix("camera/") ? UUID(uuidString: String($0.subject.dropFirst(7))) : nil },
                caller: caller, via: "events", detail: ["event_ids": .array(covert.map { .id($0.id) })]
            )
        }
        return .ok(.init(body: .json(.init(items: items, nextCursor: result.next.encoded))))
    }
}

extension Components.Schemas.Event {
    init(_ stored: StoredEvent) throws {
        let data = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(stored.payloadJSON.utf8))
        self.init(
            id: stored.id.uuidString.lowercased(), _type: stored.type, subject: stored.subject, sequence: stored.sequence,
            createdAt: stored.createdAt, data: .init(additionalProperties: data)
        )
    }
}
