import Foundation

/// Which page of a list to return: at most `limit` items after the position `cursor` marks.
public struct PageRequest: Sendable, Hashable {
    /// The default page size.
    public static let defaultLimit = 50
    /// The largest page size.
    public static let maximumLimit = 500

    /// How many items at most.
    public let limit: Int
    /// Where the previous page ended; `nil` for the first page.
    public let cursor: Cursor?

    /// Validates the `limit` and `cursor` query parameters.
    public init(limit: Int?, cursor: String?) throws(ValidationError) {
        var problems: [FieldProblem] = []
        let limit = limit ?? Self.defaultLimit
        if !(1...Self.maximumLimit).contains(limit) {
            problems.append(.init(parameter: "limit", detail: "must be between 1 and \(Self.maximumLimit)"))
        }
        var decoded: Cursor?
        if let cursor {
            decoded = Cursor(encoded: cursor)
            if decoded == nil { problems.append(.init(parameter: "cursor", detail: "is not a cursor this server issued")) }
        }
        guard problems.isEmpty else { throw ValidationError(problems) }
        self.limit = limit
        self.cursor = decoded
    }
}

/// An opaque position in an ordered list: the sort key of the last item a page returned.
///
/// Clients see it as URL-safe base64 and must not build their own; the server decodes it and resumes after it.
public struct Cursor: Sendable, Hashable {
    /// The sort key's parts, in order.
    public let key: [String]

    /// A cursor after the item with this sort key.
    public init(key: [String]) { self.key = key }

    /// Decodes a cursor from its text form; `nil` if it is not one.
    public init?(encoded: String) {
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard encoded.count <= 2048, let data = Data(base64Encoded: base64),
            let key = try? JSONDecoder().decode([String].self, from: data), !key.isEmpty
        else { return nil }
        self.key = key
    }

    /// The cursor's text form.
    public var encoded: String {
        let data = (try? JSONEncoder().encode(key)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// One page of a list, and the cursor for the next page if there is one.
public struct Page<Item: Sendable>: Sendable {
    /// The items, in list order.
    public var items: [Item]
    /// Where the next page starts; `nil` on the last page.
    public var nextCursor: Cursor?

    /// A page from items fetched with one more than the limit: the extra item only says a next page exists.
    public init(fetched: [Item], limit: Int, key: (Item) -> [String]) {
        if fetched.count > limit {
            items = Array(fetched.prefix(limit))
            nextCursor = items.last.map { Cursor(key: key($0)) }
        } else {
            items = fetched
            nextCursor = nil
        }
    }
}
