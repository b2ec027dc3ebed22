/// The text of an API key: `sl_live_<prefix>_<secret>`.
///
/// The prefix (12 lower-case letters and digits) is stored and shown, so a key can be named in logs and
/// revoked; the secret (43 characters of URL-safe base64, 256 random bits) is shown once and stored only as
/// its SHA-256.
public struct APIKeyToken: Sendable, Hashable {
    /// The visible prefix.
    public let prefix: String
    /// The secret part.
    public let secret: String

    private static let lead = "sl_live_"
    private static let prefixAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    private static let base64URL = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    /// Parses a presented key; `nil` for anything not of the form.
    public init?(_ text: String) {
        guard text.hasPrefix(Self.lead) else { return nil }
        let rest = text.dropFirst(Self.lead.count)
        guard rest.count == 12 + 1 + 43, rest[rest.index(rest.startIndex, offsetBy: 12)] == "_" else { return nil }
        let prefix = rest.prefix(12)
        let secret = rest.suffix(43)
        guard prefix.allSatisfy({ Self.prefixAlphabet.contains($0) }), secret.allSatisfy({ Self.base64URL.contains($0) }) else {
            return nil
        }
        self.prefix = String(prefix)
        self.secret = String(secret)
    }

    /// The key in an `Authorization: Bearer <key>` header; `nil` for anything else.
    public init?(authorization: String) {
        guard authorization.count < 200, authorization.lowercased().hasPrefix("bearer ") else { return nil }
        self.init(String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces))
    }

    /// A new random key drawn from `generator` (the system's secure generator unless a test gives another).
    public static func generate<G: RandomNumberGenerator>(using generator: inout G) -> APIKeyToken {
        let prefix = String((0..<12).map { _ in prefixAlphabet.randomElement(using: &generator)! })
        let bytes: [UInt8] = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // 32 bytes are 256 bits: 42 full base64 characters and 4 bits in the 43rd.
        var secret = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                secret.append(base64URL[(buffer >> bits) & 0x3F])
            }
        }
        if bits > 0 { secret.append(base64URL[(buffer << (6 - bits)) & 0x3F]) }
        return APIKeyToken(prefix: prefix, secret: secret)
    }

    /// A new random key from the system's secure generator.
    public static func generate() -> APIKeyToken {
        var generator = SystemRandomNumberGenerator()
        return generate(using: &generator)
    }

    private init(prefix: String, secret: String) {
        self.prefix = prefix
        self.secret = secret
    }

    /// The whole key, as a client presents it.
    public var text: String { Self.lead + prefix + "_" + secret }
}
