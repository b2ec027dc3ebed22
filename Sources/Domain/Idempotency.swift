/// The rules of `Idempotency-Key` (DESIGN §5): which operations honour it, what a key may look like and how
/// long it is kept.
public enum Idempotency {
    /// The operations that create something. Each replays its first response to a retry with the same key and
    /// body; a test checks that every creating POST of `openapi.yaml` is listed.
    public static let operations: Set<String> = [
        "createAPIKey",
        "createControlRoom",
        "createCamera",
        "importCameras",
        "createEmbeddingArrangement",
        "createEvidenceRequest",
        "registerEvidenceItem",
        "handOverEvidenceItem",
        "createWebhookEndpoint",
        "createProposal",
        "recordProposalEndorsement",
        "addProposalMilestone",
    ]

    /// How long a key is remembered after its first use.
    public static let retention: Duration = .seconds(24 * 60 * 60)

    /// How long a running request holds its key before a retry may take it over (the request's server is then
    /// presumed dead). Longer than any request may run.
    public static let lease: Duration = .seconds(60)

    /// Checks a presented key: 1 to 255 visible ASCII characters (a UUID is the usual choice).
    public static func check(_ key: String) throws(ValidationError) {
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw ValidationError([.init(parameter: "Idempotency-Key", detail: "must be 1 to 255 visible ASCII characters, such as a UUID")])
        }
    }
}
