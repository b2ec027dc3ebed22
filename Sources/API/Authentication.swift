import Domain
import Foundation
import HTTPTypes
import Logging
import OpenAPIRuntime
import Storage
import Synchronization

/// Checks presented API keys against the database, remembering each key for a few seconds so that a busy
/// client costs one lookup per key per interval rather than one per request.
///
/// A revoked key keeps working on an instance for at most `cacheTTL` after revocation on another instance (the
/// instance that revokes forgets it at once).
final class Authenticator: Sendable {
    private struct Entry {
        let key: APIKey
        let secretHash: [UInt8]
        let organisationKind: OrganisationKind
        let fetchedAt: ContinuousClock.Instant
        var touchedAt: ContinuousClock.Instant?
    }

    private let store: APIKeyStore
    private let clock: any WallClock
    private let cacheTTL: Duration
    private let cache = Mutex<[String: Entry]>([:])

    /// An authenticator over `store`, judging expiry by `clock`.
    init(store: APIKeyStore, clock: any WallClock, cacheTTL: Duration = .seconds(5)) {
        self.store = store
        self.clock = clock
        self.cacheTTL = cacheTTL
    }

    /// The principal for an `Authorization` header; throws `AuthenticationFailure`, which says why for the
    /// audit log, while the client sees the same 401 whatever the reason.
    func authenticate(_ authorization: String?) async throws -> Principal {
        guard let authorization else { throw AuthenticationFailure(reason: "no key", prefix: nil) }
        guard let token = APIKeyToken(authorization: authorization) else { throw AuthenticationFailure(reason: "malformed key", prefix: nil) }
        let now = ContinuousClock.now
        var entry = cache.withLock { cache in cache[token.prefix].flatMap { now - $0.fetchedAt < cacheTTL ? $0 : nil } }
        if entry == nil {
            guard let found = try await store.find(prefix: token.prefix) else {
                throw AuthenticationFailure(reason: "unknown key", prefix: token.prefix)
            }
            entry = Entry(key: found.key, secretHash: found.secretHash, organisationKind: found.organisationKind, fetchedAt: now, touchedAt: nil)
            cache.withLock { $0[token.prefix] = entry }
        }
        guard let entry, APIKeyStore.matches(token, storedHash: entry.secretHash) else {
            throw AuthenticationFailure(reason: "wrong secret", prefix: token.prefix)
        }
        guard entry.key.revokedAt == nil else { throw AuthenticationFailure(reason: "revoked key", prefix: token.prefix, key: entry.key) }
        guard entry.key.isUsable(at: clock.now()) else { throw AuthenticationFailure(reason: "expired key", prefix: token.prefix, key: entry.key) }
        try await recordUse(of: entry.key, prefix: token.prefix, now: now)
        return Principal(
            keyID: entry.key.id, keyPrefix: entry.key.prefix, organisationID: entry.key.organisationID,
            organisationKind: entry.organisationKind, role: entry.key.role,
            covertAccess: entry.key.covertAccess
        )
    }

    /// Forgets a key at once, after it was revoked here.
    func forget(prefix: String) {
        _ = cache.withLock { $0.removeValue(forKey: prefix) }
    }

    /// Updates `last_used_at` at most once a minute per key from this instance.
    private func recordUse(of key: APIKey, prefix: String, now: ContinuousClock.Instant) async throws {
        let due = cache.withLock { cache -> Bool in
            guard var entry = cache[prefix] else { return false }
            if let touched = entry.touchedAt, now - touched < .seconds(60) { return false }
            entry.touchedAt = now
            cache[prefix] = entry
            return true
        }
        if due { try await store.touch(id: key.id) }
    }
}

/// Why a presented key was refused: for the audit log only, never for the client.
struct AuthenticationFailure: Error {
    let reason: String
    /// The prefix of a well-formed key (attacker-chosen text for an unknown one).
    let prefix: String?
    /// The key, when it exists.
    var key: APIKey?
}

/// Authenticates, rate-limits and authorises every operation (by the role × operation table of
/// `Permissions`) before the handler runs, auditing every refusal; the handler finds the caller in
/// `Caller.current`.
///
/// Failed authentications are limited per client address (`SIGHTLINE_AUTH_FAILURE_BURST` and `…_PER_MINUTE`); beyond
/// the limit they are answered 429 and not audited one by one.
struct AuthorisationMiddleware: ServerMiddleware {
    let authenticator: Authenticator
    let rateLimiter: RateLimiter<UUID>
    let failureLimiter: RateLimiter<String>
    let auditor: Auditor

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        switch Permissions.access(to: operationID) {
        case .public:
            return try await next(request, body, metadata)
        case .roles(let roles):
            let principal: Principal
            do {
                principal = try await authenticator.authenticate(request.headerFields[.authorization])
            } catch let failure as AuthenticationFailure {
                let (allowed, headers) = failureLimiter.admit(RequestInfo.current?.clientAddress ?? "unknown")
                guard allowed else { throw Problem.tooManyFailedAuthentications(headers: headers) }
                try await auditor.record(
                    "authenticate", .denied, by: auditor.actor(nil, keyPrefix: failure.prefix, organisationID: failure.key?.organisationID),
                    detail: ["reason": .string(failure.reason), "operation": .string(operationID)]
                )
                throw Problem.unauthorized
            }
            let (allowed, limitHeaders) = rateLimiter.admit(principal.keyID)
            guard allowed else { throw Problem.tooManyRequests(headers: limitHeaders) }
            guard roles.contains(principal.role) else {
                try await auditor.record("authorise", .denied, by: auditor.actor(principal), detail: ["operation": .string(operationID)])
                throw Problem.forbidden("A key with the role \(principal.role.rawValue) may not call \(operationID).")
            }
            var (response, responseBody) = try await Caller.$current.withValue(principal) { try await next(request, body, metadata) }
            response.headerFields.append(contentsOf: limitHeaders)
            return (response, responseBody)
        case nil:
            throw Problem.forbidden("No role may call \(operationID).")
        }
    }
}

/// The authenticated caller of the operation being handled.
enum Caller {
    @TaskLocal static var current: Principal?

    /// The caller; only operations that need no key run without one, and they do not ask.
    static func required() throws -> Principal {
        guard let current else { throw Problem.unauthorized }
        return current
    }
}

extension Problem {
    /// The one answer to every authentication failure, so that it reveals nothing about which keys exist.
    static var unauthorized: Problem {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = "Bearer realm=\"sightline\""
        return Problem(
            status: .unauthorized, slug: "unauthorized", title: "Authentication required",
            detail: "Send a valid API key as Authorization: Bearer <key>.", headers: headers
        )
    }

    static func forbidden(_ detail: String) -> Problem {
        Problem(status: .forbidden, slug: "forbidden", title: "Forbidden", detail: detail)
    }
}
