import Foundation

/// Optimistic concurrency: a mutable resource's `version` becomes its strong ETag, and a change must name the
/// version it was based on in `If-Match`.
public enum Preconditions {
    /// The strong ETag of `version`, e.g. `"7"`.
    public static func etag(version: Int) -> String { "\"\(version)\"" }

    /// Checks an `If-Match` header against the current version.
    ///
    /// - Throws: `.missing` without the header (HTTP 428), `.stale` when no tag in it is the current one (412).
    ///   `*` matches any existing resource; weak tags (`W/"7"`) never match, as RFC 9110 requires for If-Match.
    public static func check(ifMatch: String?, currentVersion: Int) throws(PreconditionFailure) {
        guard let ifMatch, !ifMatch.trimmingCharacters(in: .whitespaces).isEmpty else { throw .missing }
        let current = etag(version: currentVersion)
        let tags = ifMatch.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if tags.contains("*") || tags.contains(current) { return }
        throw .stale(currentETag: current)
    }
}

/// Why a change was refused before it was tried.
public enum PreconditionFailure: Error, Sendable, Hashable {
    /// The request did not say which version it changes.
    case missing
    /// The resource changed since the client read it; `currentETag` is its tag now.
    case stale(currentETag: String)
}
