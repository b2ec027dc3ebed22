import Domain
import Foundation
import LibPQ

/// The alerts the `evidence-alerts` job raises (DESIGN §4.1 step 7).
extension EvidenceStore {

    /// Raises the alerts due at `now` on up to `limit` live tasks (DESIGN §4.1 step 7): each task's new
    /// version, `at_risk` flag, event and audit row commit together, and `raised` records each alert so it is
    /// raised once. Tasks another instance is working on are skipped. Returns how many alerts were raised.
    public func raiseAlerts(now: Date, limit: Int = 500) async throws -> Int {
        try await database.withTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT id, status, overwrite_at, ack_due_at, export_due_at, raised FROM evidence_tasks
                WHERE status IN ('pending', 'acknowledged')
                  AND ((status = 'pending' AND overwrite_at - interval '24 hours' <= $1 AND NOT 'at_risk_24h' = ANY (raised))
                    OR (status = 'pending' AND overwrite_at - interval '2 hours' <= $1 AND NOT 'at_risk_2h' = ANY (raised))
                    OR (status = 'pending' AND ack_due_at < $1 AND NOT 'ack_breached' = ANY (raised))
                    OR (export_due_at < $1 AND NOT 'export_breached' = ANY (raised)))
                ORDER BY overwrite_at LIMIT $2
                FOR UPDATE SKIP LOCKED
                """,
                now, limit
            )
            var raisedCount = 0
            for row in rows {
                let id: UUID = try row.decode(0)
                let status = EvidenceTaskStatus(rawValue: try row.decode(1, as: String.self)) ?? .pending
                let raised = Set(try row.decode(5, as: [String].self).compactMap(EvidenceAlert.init(rawValue:)))
                let due = EvidenceAlert.due(
                    status: status, overwriteAt: try row.decode(2), ackDueAt: try row.decode(3), exportDueAt: try row.decode(4), raised: raised,
                    now: now
                )
                if !due.mark.isEmpty {
                    try await connection.query(
                        "UPDATE evidence_tasks SET raised = raised || $2::text[] WHERE id = $1", id, due.mark.map(\.rawValue).sorted()
                    )
                }
                for alert in due.raise {
                    try await connection.query(
                        """
                        UPDATE evidence_tasks SET version = version + 1, updated_at = $3, at_risk = at_risk OR $2 WHERE id = $1
                        """,
                        id, alert == .atRisk24h || alert == .atRisk2h, now
                    )
                    let task = try await Self.tasks(.id(id), on: connection)[0]
                    try await connection.append(.evidenceTask(alert.eventType, task, alert: alert), at: now)
                    try await connection.recordAudit(
                        AuditActor.scheduler.event(
                            alert.eventType.rawValue, .success, entityType: "evidence_task", entityID: id.uuidString.lowercased(),
                            detail: alert.eventFields)
                    )
                    raisedCount += 1
                }
            }
            return raisedCount
        }
    }
}
