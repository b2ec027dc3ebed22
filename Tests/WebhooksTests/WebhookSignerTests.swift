import Domain
import Foundation
import Testing
import Webhooks

@Suite("Webhooks: Standard Webhooks signatures")
struct WebhookSignerTests {
    /// The test vector published with the Standard Webhooks reference libraries: a receiver's own library must
    /// accept what we send, so this must match to the byte.
    @Test func theSpecificationTestVectorIsReproducedExactly() throws {
        let secret = try #require(WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = WebhookSigner.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8), secrets: [secret]
        )
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func twoLiveSecretsGiveTwoSignaturesSeparatedByASpace() throws {
        let old = try #require(WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let new = WebhookSecret.generate()
        let both = WebhookSigner.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8), secrets: [new, old])
        let parts = both.split(separator: " ").map(String.init)
        #expect(parts.count == 2)
        #expect(parts[1] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(parts[0].hasPrefix("v1,") && parts[0] != parts[1])
    }

    @Test(arguments: [
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true),  // 24 bytes
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La", false),  // 18 bytes: too short
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false),  // no prefix
        ("whsec_not base64!", false),
    ])
    func secretsAreWhsecAndAtLeast24Bytes(text: String, valid: Bool) {
        #expect((WebhookSecret(text) != nil) == valid)
    }

    @Test func generatedSecretsAre32RandomBytesAndNeverPrinted() throws {
        let a = WebhookSecret.generate()
        let b = WebhookSecret.generate()
        #expect(a.key.count == 32 && a != b)
        #expect(WebhookSecret(a.text) == a)
        #expect(!"\(a)".contains(a.text.dropFirst(6)))
    }
}
