/// The role × operation table: which roles may call each operation of `openapi.yaml`, by operation id.
///
/// Every operation has an entry (a test compares this table with the contract); an operation missing here is
/// refused to everyone. Object-level rules (which organisation's objects a caller may see or change) come on
/// top of this, in the rules of each resource.
public enum Permissions {
    /// Who may call an operation.
    public enum Access: Sendable, Hashable {
        /// Anyone, without a key: liveness, readiness, metrics, the contract.
        case `public`
        /// Any authenticated key whose role is listed.
        case roles(Set<Role>)
    }

    private static let everyone = Set(Role.allCases)
    private static let registryWriters: Set<Role> = [.admin, .partnerAdmin, .operator]
    private static let investigators: Set<Role> = [.requester, .embeddedOfficer]
    /// Both sides of a task: holders' operators and partner admins, and the requesting force's officers.
    private static let evidenceParties: Set<Role> = [.requester, .embeddedOfficer, .operator, .partnerAdmin]
    private static let evidenceHolders: Set<Role> = [.operator, .partnerAdmin, .embeddedOfficer]
    private static let proposalStewards: Set<Role> = [.planner, .partnerAdmin]

    /// The table.
    public static let table: [String: Access] = [
        "getHealth": .public,
        "getReadiness": .public,
        "getMetrics": .public,
        "getOpenAPIDocument": .public,
        // Organisations and boroughs are reference data every partner needs.
        "listOrganisations": .roles(everyone),
        "getOrganisation": .roles(everyone),
        "listBoroughs": .roles(everyone),
        "getBorough": .roles(everyone),
        // Keys: partner admins for their own organisation, admins for any.
        "createAPIKey": .roles([.admin, .partnerAdmin]),
        "listAPIKeys": .roles([.admin, .partnerAdmin]),
        "revokeAPIKey": .roles([.admin, .partnerAdmin]),
        // The registry: every key reads it (covert cameras aside); operators and partner admins keep their own
        // organisation's entries current, admins any.
        "listControlRooms": .roles(everyone),
        "getControlRoom": .roles(everyone),
        "createControlRoom": .roles(registryWriters),
        "updateControlRoom": .roles(registryWriters),
        "listCameras": .roles(everyone),
        "getCamera": .roles(everyone),
        "createCamera": .roles(registryWriters),
        "updateCamera": .roles(registryWriters),
        "decommissionCamera": .roles(registryWriters),
        "getCameraStatistics": .roles(everyone),
        "exportCameras": .roles(everyone),
        "importCameras": .roles(registryWriters),
        "listEmbeddingArrangements": .roles(everyone),
        "getEmbeddingArrangement": .roles(everyone),
        "createEmbeddingArrangement": .roles(registryWriters),
        "updateEmbeddingArrangement": .roles(registryWriters),
        "endEmbeddingArrangement": .roles(registryWriters),
        // Evidence is seen only by the parties to it (DESIGN §6); admins and auditors see it through the audit
        // log, not here.
        "createEvidenceRequest": .roles(investigators),
        "listEvidenceRequests": .roles(investigators),
        "getEvidenceRequest": .roles(investigators),
        "cancelEvidenceRequest": .roles(investigators),
        "listEvidenceTasks": .roles(evidenceParties),
        "getEvidenceTask": .roles(evidenceParties),
        "transitionEvidenceTask": .roles(evidenceParties),
        "registerEvidenceItem": .roles(evidenceHolders),
        "getEvidenceItem": .roles(evidenceParties),
        "uploadEvidenceContent": .roles(evidenceHolders),
        "downloadEvidenceContent": .roles(evidenceParties),
        "handOverEvidenceItem": .roles(evidenceParties),
        "listCustodyEvents": .roles(evidenceParties),
        // Proposals: every key reads them; planners and partner admins (object rules in ProposalRules) write them,
        // participants' partner admins record positions, MOPAC planners decide.
        "listProposals": .roles(everyone),
        "getProposal": .roles(everyone),
        "listProposalEndorsements": .roles(everyone),
        "getProposalAppraisal": .roles(everyone),
        "createProposal": .roles(proposalStewards),
        "updateProposal": .roles(proposalStewards),
        "transitionProposal": .roles(proposalStewards),
        "addProposalMilestone": .roles(proposalStewards),
        "updateProposalMilestone": .roles(proposalStewards),
        "decideProposal": .roles([.planner]),
        "recordProposalEndorsement": .roles([.partnerAdmin]),
        // MOPAC's programme figures: pan-London, for planners and analysts (and the platform admin).
        "getValueForMoney": .roles([.planner, .analyst, .admin]),
        // Nightly reports: every key reads its own organisation's (object rules in ReportReader).
        "listReports": .roles(everyone),
        "getReport": .roles(everyone),
        // Each organisation's own events.
        "listEvents": .roles(everyone),
        // Webhook endpoints: each organisation's partner admins manage its own (DESIGN §6).
        "createWebhookEndpoint": .roles([.partnerAdmin]),
        "listWebhookEndpoints": .roles([.partnerAdmin]),
        "getWebhookEndpoint": .roles([.partnerAdmin]),
        "updateWebhookEndpoint": .roles([.partnerAdmin]),
        "deleteWebhookEndpoint": .roles([.partnerAdmin]),
        "rotateWebhookSecret": .roles([.partnerAdmin]),
        "testWebhookEndpoint": .roles([.partnerAdmin]),
        "enableWebhookEndpoint": .roles([.partnerAdmin]),
        "recoverWebhookEndpoint": .roles([.partnerAdmin]),
        "listWebhookDeliveries": .roles([.partnerAdmin]),
        "getWebhookDelivery": .roles([.partnerAdmin]),
        "redeliverWebhook": .roles([.partnerAdmin]),
        // The audit log: auditors read their own organisation's rows, admins every row.
        "listAuditLog": .roles([.auditor, .admin]),
        "verifyAuditLog": .roles([.auditor, .admin]),
    ]

    /// How `operationID` may be called; `nil` when the table has no entry, which refuses everyone.
    public static func access(to operationID: String) -> Access? { table[operationID] }

    /// Whether `role` may call `operationID`.
    public static func allows(_ role: Role, _ operationID: String) -> Bool {
        switch table[operationID] {
        case .public: true
        case .roles(let roles): roles.contains(role)
        case nil: false
        }
    }
}
