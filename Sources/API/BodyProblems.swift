import Domain
import Foundation
import OpenAPIRuntime

/// Every field at fault in a JSON body, not only the first.
///
/// The generated decoders stop at the first problem. When one is found, the body is decoded again with that
/// field put right (a missing field given a stand-in of the type it needs, a value outside an enum one of its
/// values, a bad date-time a good one, an unknown field taken out), until it decodes or nothing more can be
/// said; each problem is named once, with what the field takes. The contract decides: the types are the
/// generated ones, and enum values come from `openapi.yaml` itself.
enum BodyProblems {
    /// The body each operation with a JSON body takes (merge patches are free-form: their handlers check them).
    static func bodyType(of operationID: String) -> (any Decodable.Type)? {
        switch operationID {
        case "createAPIKey": Components.Schemas.APIKeyCreate.self
        case "createControlRoom": Components.Schemas.ControlRoomCreate.self
        case "createCamera": Components.Schemas.CameraCreate.self
        case "decommissionCamera": Components.Schemas.CameraDecommission.self
        case "createEmbeddingArrangement": Components.Schemas.EmbeddingArrangementCreate.self
        case "endEmbeddingArrangement": Components.Schemas.EmbeddingArrangementEnd.self
        case "createEvidenceRequest": Components.Schemas.EvidenceRequestCreate.self
        case "cancelEvidenceRequest": Components.Schemas.EvidenceCancel.self
        case "transitionEvidenceTask": Components.Schemas.EvidenceTaskTransition.self
        case "registerEvidenceItem": Components.Schemas.EvidenceItemCreate.self
        case "handOverEvidenceItem": Components.Schemas.EvidenceHandover.self
        case "createWebhookEndpoint": Components.Schemas.WebhookEndpointCreate.self
        case "recoverWebhookEndpoint": Components.Schemas.WebhookRecover.self
        case "createProposal": Components.Schemas.ProposalCreate.self
        case "transitionProposal": Components.Schemas.ProposalTransition.self
        case "decideProposal": Components.Schemas.ProposalDecisionCreate.self
        case "recordProposalEndorsement": Components.Schemas.ProposalEndorsementCreate.self
        case "addProposalMilestone": Components.Schemas.ProposalMilestoneCreate.self
        default: nil
        }
    }

    /// The problems of `body`, sent to `operationID`; empty when the operation takes no JSON body known here,
    /// or nothing could be said beyond what the first error said.
    static func find(in body: [UInt8], operationID: String) -> [FieldProblem] {
        guard let type = bodyType(of: operationID),
            var tree = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        else { return [] }
        var problems: [FieldProblem] = []
        var standIns: Set<String> = []
        for _ in 0..<64 {
            let data: Data
            do { data = try JSONSerialization.data(withJSONObject: tree, options: [.fragmentsAllowed]) } catch { break }
            do {
                _ = try decoder.decode(type, from: data)
                break
            } catch let error as DecodingError {
                guard let step = Self.step(error, tree: &tree, standIns: &standIns) else { break }
                if let problem = step, !problems.contains(problem) { problems.append(problem) }
            } catch let error as InvalidDateTime {
                let paths = Self.paths(in: tree, holding: error.text)
                guard !paths.isEmpty else { break }
                let quoted = error.text.count > 40 ? String(error.text.prefix(40)) + "…" : error.text
                for path in paths {
                    problems.append(
                        .init(
                            pointer: pointer(path),
                            detail: "\"\(quoted)\" is not an RFC 3339 date-time, such as 2026-11-21T09:30:00Z or 2026-11-21T09:30:00.250+01:00"))
                    tree = Self.set(tree, at: path[...], to: "2000-01-01T00:00:00Z")
                }
            } catch {
                break
            }
        }
        return problems
    }

    /// What one decoding error says, with the tree put right so that decoding can go on past it: a problem to
    /// report (`nil` inside when the error was about a stand-in of ours), or `nil` when it cannot go on.
    private static func step(_ error: DecodingError, tree: inout Any, standIns: inout Set<String>) -> FieldProblem?? {
        switch error {
        case .keyNotFound(let key, let context):
            let path = context.codingPath.map(\.stringValue) + [key.stringValue]
            standIns.insert(pointer(path))
            tree = set(tree, at: path[...], to: "")
            return .some(FieldProblem(pointer: pointer(path), detail: "is required"))
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let path = context.codingPath.map(\.stringValue)
            guard !path.isEmpty else { return nil }
            tree = set(tree, at: path[...], to: standIn(for: type))
            if standIns.contains(pointer(path)) { return .some(nil) }
            standIns.insert(pointer(path))
            return .some(FieldProblem(pointer: pointer(path), detail: "must be " + Problem.jsonTypeName(type)))
        case .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue)
            guard !path.isEmpty else { return nil }
            if context.debugDescription.hasPrefix("Additional properties are disabled") {
                tree = remove(tree, at: path[...])
                return .some(FieldProblem(pointer: pointer(path), detail: "is not a field of this request"))
            }
            // "Cannot initialize EvidencePriority from invalid String value sometimes"
            let words = context.debugDescription.split(separator: " ")
            if words.count > 2, words[0] == "Cannot", words[1] == "initialize",
                let allowed = allowedValues(type: String(words[2]), property: path.last ?? ""), let first = allowed.first
            {
                tree = set(tree, at: path[...], to: first)
                return .some(FieldProblem(pointer: pointer(path), detail: "must be one of " + allowed.joined(separator: ", ")))
            }
            return nil
        @unknown default:
            return nil
        }
    }

    /// The decoder the generated code uses: RFC 3339 dates as this server reads them.
    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            try RFC3339DateTranscoder().decode(try decoder.singleValueContainer().decode(String.self))
        }
        return decoder
    }

    static func pointer(_ path: [String]) -> String {
        "/" + path.map { $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }.joined(separator: "/")
    }

    private static func standIn(for type: Any.Type) -> Any {
        switch type {
        case is String.Type: ""
        case is Int.Type, is Int32.Type, is Int64.Type, is Double.Type, is Float.Type: 0
        case is Bool.Type: false
        case is [Any].Type: [Any]()
        default: [String: Any]()
        }
    }

    private static func set(_ tree: Any, at path: ArraySlice<String>, to value: Any) -> Any {
        guard let key = path.first else { return value }
        if var array = tree as? [Any], let index = Int(key), array.indices.contains(index) {
            array[index] = set(array[index], at: path.dropFirst(), to: value)
            return array
        }
        var object = tree as? [String: Any] ?? [:]
        object[key] = set(object[key] ?? [String: Any](), at: path.dropFirst(), to: value)
        return object
    }

    private static func remove(_ tree: Any, at path: ArraySlice<String>) -> Any {
        guard let key = path.first else { return tree }
        if var array = tree as? [Any], let index = Int(key), array.indices.contains(index) {
            if path.count == 1 { return tree }
            array[index] = remove(array[index], at: path.dropFirst())
            return array
        }
        guard var object = tree as? [String: Any] else { return tree }
        if path.count == 1 {
            object[key] = nil
        } else if let inner = object[key] {
            object[key] = remove(inner, at: path.dropFirst())
        }
        return object
    }

    /// The paths of the strings equal to `text` in `tree`.
    private static func paths(in tree: Any, holding text: String, under prefix: [String] = []) -> [[String]] {
        if let string = tree as? String { return string == text ? [prefix] : [] }
        if let array = tree as? [Any] { return array.enumerated().flatMap { paths(in: $1, holding: text, under: prefix + [String($0)]) } }
        if let object = tree as? [String: Any] {
            return object.keys.sorted().flatMap { paths(in: object[$0]!, holding: text, under: prefix + [$0]) }
        }
        return []
    }

    /// The values `openapi.yaml` allows: the enum of the schema named `type`, else of a property named `property`.
    static func allowedValues(type: String, property: String) -> [String]? {
        enums.byName[type] ?? enums.byProperty[property]
    }

    /// Every `enum: [...]` of the contract, by the schema it belongs to and by the property that holds it.
    private static let enums: (byName: [String: [String]], byProperty: [String: [String]]) = {
        var byName: [String: [String]] = [:]
        var byProperty: [String: [String]] = [:]
        var names: [(indent: Int, name: String)] = []
        for line in SightlineAPI.openAPIDocument.split(separator: "\n", omittingEmptySubsequences: false) {
            let indent = line.prefix { $0 == " " }.count
            let text = line.dropFirst(indent)
            names.removeAll { $0.indent >= indent }
            if text.hasPrefix("enum: ["), text.hasSuffix("]") {
                let values = text.dropFirst("enum: [".count).dropLast().split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                }
                if let owner = names.last {
                    if owner.indent == 4 { byName[owner.name] = values } else { byProperty[owner.name] = byProperty[owner.name] ?? values }
                }
            } else if text.hasSuffix(":"), !text.hasPrefix("-"), !text.contains(" ") {
                names.append((indent, String(text.dropLast())))
            }
        }
        return (byName, byProperty)
    }()
}
