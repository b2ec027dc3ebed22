import Crypto
import Domain
import Foundation

/// Standard Webhooks signatures: `v1,` and the base64 of HMAC-SHA256 over `<id>.<timestamp>.<body>`, one per
/// live secret, separated by spaces.
public enum WebhookSigner {
    /// The `webhook-signature` value for a message `id` sent at `timestamp` (seconds since 1970) with `body`.
    public static func signature(id: String, timestamp: Int, body: [UInt8], secrets: [WebhookSecret]) -> String {
        let signed = Array((id + "." + String(timestamp) + ".").utf8) + body
        return secrets.map { secret in
            let code = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: secret.key))
            return "v1," + Data(code).base64EncodedString()
        }
        .joined(separator: " ")
    }
}
