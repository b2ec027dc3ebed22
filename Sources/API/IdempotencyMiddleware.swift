import Crypto
import Domain
import Foundation
import HTTPTypes
import OpenAPIRuntime
import Storage

/// Replays the first response of a creating POST to every retry that presents the same `Idempotency-Key` with
/// the same request, for `Idempotency.retention`; refuses the key for another request (422) and while the first
/// is still running (409). Keys belong to the API key that presented them.
///
/// Runs after authorisation. The stored response is sealed with a key derived from the caller's API key secret
/// and the Idempotency-Key, so the database never holds a replayable response in clear — not even the secret
/// of a key created by `POST /v1/api-keys`.
struct IdempotencyMiddleware: ServerMiddleware {
    let store: IdempotencyStore
    /// The largest response kept for replay; creating responses are small.
    var maxResponseBytes = 1 << 20

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard Idempotency.operations.contains(operationID), let presented = request.headerFields[.idempotencyKey] else {
            return try await next(request, body, metadata)
        }
        try Idempotency.check(presented)
        let caller = try Caller.required()
        // Authorisation has accepted this header already, so it parses.
        guard let authorization = request.headerFields[.authorization], let token = APIKeyToken(authorization: authorization) else {
            throw Problem.unauthorized
        }
        // The body limit middleware has bounded the body already.
        var requestBody = Data()
        if let body { requestBody = try await Data(collecting: body, upTo: .max) }
        let keyHash = Array(SHA256.hash(data: Data(presented.utf8)))
        var fingerprint = SHA256()
        for part in [operationID, request.method.rawValue, request.path ?? ""] { fingerprint.update(data: Data((part + "\n").utf8)) }
        fingerprint.update(data: requestBody)
        let seal = ResponseSeal(secret: token.secret, idempotencyKey: presented)

        switch try await store.claim(
            apiKeyID: caller.keyID, keyHash: keyHash, operation: operationID, requestHash: Array(fingerprint.finalize()),
            lease: Idempotency.lease, keepFor: Idempotency.retention
        ) {
        case .claimed:
            do {
                let (response, responseBody) = try await next(request, HTTPBody(requestBody), metadata)
                var bytes = Data()
                if let responseBody { bytes = try await Data(collecting: responseBody, upTo: maxResponseBytes) }
                if (200..<300).contains(response.status.code) {
                    try await store.complete(apiKeyID: caller.keyID, keyHash: keyHash, sealedResponse: try seal.seal(response, body: bytes))
                } else {
                    try await store.release(apiKeyID: caller.keyID, keyHash: keyHash)
                }
                return (response, HTTPBody(bytes))
            } catch {
                // The request failed: a retry should run it again rather than replay a failure.
                try? await store.release(apiKeyID: caller.keyID, keyHash: keyHash)
                throw error
            }
        case .finished(let sealed):
            var (response, bytes) = try seal.open(sealed)
            response.headerFields[.idempotentReplayed] = "true"
            return (response, HTTPBody(bytes))
        case .running:
            var headers = HTTPFields()
            headers[.retryAfter] = "1"
            throw Problem(
                status: .conflict, slug: "idempotency-key-in-use", title: "Request still running",
                detail: "A request with this Idempotency-Key is still being processed; retry shortly to get its response.",
                headers: headers
            )
        case .mismatch:
            throw Problem(
                status: .unprocessableContent, slug: "idempotency-key-reused", title: "Idempotency-Key reused",
                detail: "This Idempotency-Key was used for a different request in the last 24 hours; use a new key for a new request."
            )
        }
    }
}

/// Seals a response for storage with AES-GCM under a key derived (HKDF-SHA256) from the API key secret and the
/// Idempotency-Key, and opens it again.
struct ResponseSeal {
    private let key: SymmetricKey

    init(secret: String, idempotencyKey: String) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), salt: Data(idempotencyKey.utf8),
            info: Data("sightline idempotent response v1".utf8), outputByteCount: 32
        )
    }

    private struct Stored: Codable {
        var status: Int
        var headers: [[String]]
        var body: Data
    }

    func seal(_ response: HTTPResponse, body: Data) throws -> Data {
        let stored = Stored(
            status: response.status.code, headers: response.headerFields.map { [$0.name.rawName, $0.value] }, body: body
        )
        guard let combined = try AES.GCM.seal(try JSONEncoder().encode(stored), using: key).combined else {
            throw SealError()
        }
        return combined
    }

    func open(_ sealed: Data) throws -> (HTTPResponse, Data) {
        let stored = try JSONDecoder().decode(Stored.self, from: try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key))
        var fields = HTTPFields()
        for pair in stored.headers where pair.count == 2 {
            if let name = HTTPField.Name(pair[0]) { fields.append(HTTPField(name: name, value: pair[1])) }
        }
        return (HTTPResponse(status: .init(code: stored.status), headerFields: fields), stored.body)
    }

    /// AES-GCM with the default 12-byte nonce always has a combined form; this marks the impossible case.
    struct SealError: Error {}
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}
