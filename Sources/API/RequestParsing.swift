import Domain
import Foundation
import OpenAPIRuntime

/// Small parsers for what the generated types leave as text: ids, dates, GSS codes and merge-patch bodies.
enum RequestParsing {
    /// A UUID query parameter, or a 400 naming it.
    static func uuid(_ text: String?, parameter: String) throws(ValidationError) -> UUID? {
        guard let text else { return nil }
        guard let id = UUID(uuidString: text) else { throw ValidationError([.init(parameter: parameter, detail: "must be a UUID")]) }
        return id
    }

    /// A UUID field of a body, or a 400 naming it by its JSON Pointer.
    static func uuid(_ text: String?, pointer: String) throws(ValidationError) -> UUID? {
        guard let text else { return nil }
        guard let id = UUID(uuidString: text) else { throw ValidationError([.init(pointer: pointer, detail: "must be a UUID")]) }
        return id
    }

    /// A GSS code query parameter, or a 400 naming it.
    static func gssCode(_ text: String?, parameter: String) throws(ValidationError) -> GSSCode? {
        guard let text else { return nil }
        guard let code = GSSCode(text) else {
            throw ValidationError([.init(parameter: parameter, detail: "must be the GSS code of a London borough, E09000001 to E09000033")])
        }
        return code
    }

    /// A merge-patch body as JSON bytes, `null` values kept (they clear fields).
    static func patch(_ container: OpenAPIObjectContainer) throws -> Data {
        try JSONEncoder().encode(container)
    }
}

/// Collects the problems of several fields before throwing them all at once.
struct ProblemCollector {
    private(set) var problems: [FieldProblem] = []

    /// The value `parse` returns, or `nil` with its problems collected.
    mutating func attempt<T>(_ parse: () throws(ValidationError) -> T?) -> T? {
        do {
            return try parse()
        } catch {
            problems += error.problems
            return nil
        }
    }

    /// Throws every problem collected, if any.
    func check() throws(ValidationError) {
        guard problems.isEmpty else { throw ValidationError(problems) }
    }
}

extension SightlineAPI {
    /// What `fetch` finds for the path's `id`, or a 404 problem: the same answer for an id that is not a UUID as for
    /// one that names nothing, or nothing the caller may know of.
    func found<T>(_ id: String, _ fetch: (UUID) async throws -> T?) async throws -> T {
        guard let uuid = UUID(uuidString: id), let value = try await fetch(uuid) else { throw Problem.notFound() }
        return value
    }
}
