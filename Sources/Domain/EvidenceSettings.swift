import Foundation

/// How evidence is kept and chased.
public struct EvidenceSettings: Sendable {
    /// The directory of uploaded content (`SIGHTLINE_EVIDENCE_DIR`).
    public var directory: String
    /// The deadlines of tasks, by priority.
    public var sla: EvidenceSLA
    /// How long after collection stored content is purged.
    public var purgeAfter: Duration
    /// How far preservation holds may reach.
    public var hold: HoldPolicy

    /// Settings from their parts.
    public init(directory: String, sla: EvidenceSLA = .standard, purgeAfter: Duration = .seconds(30 * 86_400), hold: HoldPolicy = HoldPolicy()) {
        self.directory = directory
        self.sla = sla
        self.purgeAfter = purgeAfter
        self.hold = hold
    }
}
