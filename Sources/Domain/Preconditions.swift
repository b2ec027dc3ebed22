import Foundation

/// Optimistic concurrency: a mutable resource's `version` becomes its strong ETag, and a change must name the
/// version it was based on in `If-Match`.
public enum Preconditions {
    /// The strong ETag of `version`, e.g. `"7"`.
    public static func etag(version: Int) -> String { "\"\(version)\"" }

    /// Checks an `If-Match` header against the current version.
    ///
    /// - Throws: `.missing` without the header (HTTP 428), `.malformed` when it is not `*` or a list of entity
    ///   tags (400: `3` for `"3"` is a client's mistake, not a stale version), `.stale` when no tag in it is the
    ///   current one (412). `*` matches any existing resource; weak tags (`W/"7"`) never match, as RFC 9110
    ///   requires for If-Match.
    public static func check(ifMatch: String?, currentVersion: Int) throws(PreconditionFailure) {
        guard let ifMatch, !ifMatch.trimmingCharacters(in: .whitespaces).isEmpty else { throw .missing }
        let current = etag(version: currentVersion)
        let tags = ifMatch.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard tags == ["*"] || tags.allSatisfy(isEntityTag) else { throw .malformed(ifMatch) }
        if tags.contains("*") || tags.contains(current) { return }
        throw .stale(currentETag: current)
    }

    /// RFC 9110 §8.8.3: `"…"` or `W/"…"`, the quoted part without `"`, spaces or control characters.
    static func isEntityTag(_ tag: String) -> Bool {
        let strong = tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
        guard strong.count >= 2, strong.hasPrefix("\""), strong.hasSuffix("\"") else { return false }
        return strong.dropFirst().dropLast().unicodeScalars.allSatisfy { $0 == "!" || (0x23...0x7E).contains($0.value) || $0.value >= 0x80 }
    }
}

/// Why a change was refused before it was tried.
public enum PreconditionFailure: Error, Sendable, Hashable {
    /// The request did not say which version it changes.
    case missing
    /// The resource changed since the client read it; `currentETag` is its tag now.
    case stale(currentETag: String)
    /// The header is not an entity tag list (e.g. `3` for `"3"`).
    case malformed(String)
}
