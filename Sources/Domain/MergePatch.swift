import Foundation

/// JSON Merge Patch (RFC 7396) over a resource's draft: the PATCH body names the fields to change, `null`
/// clears one. The result is decoded and validated like a create, so a PATCH keeps every rule a create does.
public enum MergePatch {
    /// `draft` with `patch` applied. Fields outside `allowed` (ids, owners, versions) are refused by name, as
    /// are values of the wrong type.
    public static func apply<Draft: Codable>(_ patch: Data, to draft: Draft, allowed: Set<String>) throws(ValidationError) -> Draft {
        guard let changes = try? JSONSerialization.jsonObject(with: patch, options: [.fragmentsAllowed]) as? [String: Any] else {
            throw ValidationError([.init(pointer: "", detail: "must be a JSON object of the fields to change")])
        }
        let refused = changes.keys.filter { !allowed.contains($0) }.sorted()
        guard refused.isEmpty else {
            throw ValidationError(refused.map { .init(pointer: "/" + $0, detail: "cannot be changed, or is not a field of this resource") })
        }
        do {
            let current = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(draft)) as? [String: Any] ?? [:]
            let merged = merge(current, changes)
            return try JSONDecoder().decode(Draft.self, from: try JSONSerialization.data(withJSONObject: merged))
        } catch let error as DecodingError {
            throw ValidationError([.init(pointer: pointer(of: error), detail: detail(of: error))])
        } catch {
            throw ValidationError([.init(pointer: "", detail: "could not be applied")])
        }
    }

    private static func merge(_ target: [String: Any], _ patch: [String: Any]) -> [String: Any] {
        var result = target
        for (key, value) in patch {
            if value is NSNull {
                result.removeValue(forKey: key)
            } else if let object = value as? [String: Any] {
                result[key] = merge(result[key] as? [String: Any] ?? [:], object)
            } else {
                result[key] = value
            }
        }
        return result
    }

    /// The JSON Pointer of the field a decoding error is about.
    public static func pointer(of error: DecodingError) -> String {
        let path: [any CodingKey]
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): path = context.codingPath
        case .keyNotFound(let key, let context): path = context.codingPath + [key]
        @unknown default: path = []
        }
        return path.map { "/" + ($0.intValue.map(String.init) ?? $0.stringValue) }.joined()
    }

    private static func detail(of error: DecodingError) -> String {
        switch error {
        case .keyNotFound: "is required"
        case .valueNotFound: "must not be null"
        case .typeMismatch(let type, _):
            "has the wrong type (expected \(type == String.self ? "a string" : type == Bool.self ? "a boolean" : "a number or object"))"
        case .dataCorrupted(let context):
            context.debugDescription.hasPrefix("Cannot initialize") ? "is not one of the allowed values" : context.debugDescription
        @unknown default: "is not valid"
        }
    }
}
