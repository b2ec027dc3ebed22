/// One thing wrong with a request: which field or parameter, and why.
public struct FieldProblem: Sendable, Hashable {
    /// A JSON Pointer into the body (`/window_to`), or `#/parameters/<name>` for a query or path parameter.
    public var pointer: String
    /// What is wrong, in a sentence a client developer can act on.
    public var detail: String

    /// A problem with a field of the request body, given as a JSON Pointer.
    public init(pointer: String, detail: String) {
        self.pointer = pointer
        self.detail = detail
    }

    /// A problem with a query or path parameter.
    public init(parameter: String, detail: String) {
        self.init(pointer: "#/parameters/\(parameter)", detail: detail)
    }
}

/// A request that breaks one or more validation rules; every rule broken is listed.
public struct ValidationError: Error, Sendable, Hashable {
    /// Each problem found.
    public var problems: [FieldProblem]

    /// An error listing `problems`.
    public init(_ problems: [FieldProblem]) { self.problems = problems }
}

/// A change that does not fit the resource's current state (HTTP 409), e.g. decommissioning a camera twice.
public struct StateConflict: Error, Sendable, Hashable {
    /// Why, in a sentence for the client.
    public let reason: String
    /// The moves the resource does allow now, when it has a state machine (`allowed_actions` in the problem).
    public let allowedActions: [String]?
    /// The fields whose values conflict, e.g. a reference another resource holds (`errors` in the problem).
    public let fields: [FieldProblem]

    /// A conflict saying `reason`, optionally listing the moves that are allowed instead, or the fields at fault.
    public init(_ reason: String, allowedActions: [String]? = nil, fields: [FieldProblem] = []) {
        self.reason = reason
        self.allowedActions = allowedActions
        self.fields = fields
    }
}
