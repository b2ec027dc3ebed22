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
    /// How far outside London's boundary an incident may lie, in metres (`SIGHTLINE_SERVICE_AREA_MARGIN_M`).
    public var serviceAreaMarginMetres: Double

    /// The default margin: 10 km takes in the stations and car parks of London's transport beyond its boundary.
    public static let defaultServiceAreaMargin: Double = 10_000

    /// Settings from their parts.
    public init(
        directory: String, sla: EvidenceSLA = .standard, purgeAfter: Duration = .seconds(30 * 86_400), hold: HoldPolicy = HoldPolicy(),
        serviceAreaMarginMetres: Double = defaultServiceAreaMargin
    ) {
        self.directory = directory
        self.sla = sla
        self.purgeAfter = purgeAfter
        self.hold = hold
        self.serviceAreaMarginMetres = serviceAreaMarginMetres
    }
}
