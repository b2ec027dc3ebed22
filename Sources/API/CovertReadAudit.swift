import Domain
import Foundation

/// Every response that shows a covert camera, or a figure or event about one, writes a `camera.read_covert`
/// audit row naming what was shown and through which read: the auditor sees who learnt of covert cameras,
/// whichever path they took (camera, list, events, evidence, statistics).
extension SightlineAPI {
    /// Audits that `caller` was shown the covert cameras `cameras` (and `detail`) by the read `via`; nothing
    /// when nothing covert was shown.
    func auditCovertRead(cameras: [UUID], caller: Principal, via: String, detail: JSONObject = [:]) async throws {
        guard !cameras.isEmpty || !detail.isEmpty else { return }
        let ids = Array(Set(cameras)).map { $0.uuidString.lowercased() }.sorted()
        var detail = detail
        detail["via"] = .string(via)
        if !ids.isEmpty { detail["camera_ids"] = .array(ids.map(JSONValue.string)) }
        try await auditor.record(
            "camera.read_covert", .success, by: auditor.actor(caller), entityType: "camera", entityID: ids.count == 1 ? ids[0] : nil,
            detail: detail
        )
    }

    /// Audits the covert cameras of `tasks` shown to `caller` by the read `via`.
    func auditCovertRead(tasks: [EvidenceTask], caller: Principal, via: String) async throws {
        try await auditCovertRead(cameras: tasks.flatMap { $0.cameras.filter(\.covert).map(\.cameraID) }, caller: caller, via: via)
    }
}
