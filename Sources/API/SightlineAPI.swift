import Domain
import Storage
import Webhooks

/// The handlers of every operation in `openapi.yaml`, one extension per resource.
struct SightlineAPI: APIProtocol {
    let database: Database
    /// Where every handler reads "now": the database's clock, which every store reads too.
    var clock: any WallClock { database.clock }
    let health: DatabaseHealth
    let metrics: APIMetrics
    let organisations: OrganisationStore
    let apiKeys: APIKeyStore
    let controlRooms: ControlRoomStore
    let cameras: CameraStore
    let embeddings: EmbeddingArrangementStore
    let events: EventStore
    let evidence: EvidenceStore
    let evidenceItems: EvidenceItemStore
    let content: EvidenceContentStore
    let evidenceSettings: EvidenceSettings
    /// Shared control-room proposals.
    let proposals: ProposalStore
    /// MOPAC's programme figures.
    let analytics: AnalyticsStore
    /// Nightly reports, and the map their pages draw.
    let reports: ReportStore
    let reportMap = ReportMapCache()
    let webhooks: WebhookStore
    let webhookSettings: WebhookSettings
    let authenticator: Authenticator
    let auditor: Auditor
}
