import Domain
import Foundation
import LibPQ

/// The alerts and escalations the `evidence-alerts` job raises (DESIGN §4.1 step 7).
extension EvidenceStore {

    /// Raises what is due at `now` on up to `limit` tasks (`EvidenceTaskDue`): at-risk alerts, hold warnings and
    /// expiries, and each new escalation level of a breached deadline. Each task's new version, flags, event and
    /// audit row commit together; `raised` and `escalation_level` record what was raised, so each is raised once.
    /// Tasks another instance is working on are skipped. Returns how many events were raised.
    public func raiseAlerts(now: Date, limit: Int = 500) async throws -> Int {
        try await database.withTransaction { connection in
            // The conditions are `EvidenceTaskDue`'s, to find the candidates; the Domain decides what each is due.
            let rows = try await connection.query(
                """
                SELECT id, status, overwrite_at, ack_due_at, export_due_at, raised, hold_until, hold_released_at, escalation_level
                FROM evidence_tasks
                WHERE status IN ('pending', 'acknowledged', 'exported')
                  AND ((status = 'pending' AND overwrite_at - interval '24 hours' <= $1 AND NOT 'at_risk_24h' = ANY (raised))
                    OR (status = 'pending' AND overwrite_at - interval '2 hours' <= $1 AND NOT 'at_risk_2h' = ANY (raised))
                    OR (status = 'pending' AND ack_due_at + make_interval(days => escalation_level) < $1)
                    OR (status = 'acknowledged' AND export_due_at + make_interval(days => escalation_level) < $1)
                    OR (status IN ('acknowledged', 'exported') AND hold_released_at IS NULL
                        AND ((hold_until - interval '48 hours' <= $1 AND NOT 'hold_expiring' = ANY (raised))
                          OR (hold_until <= $1 AND NOT 'hold_expired' = ANY (raised)))))
                ORDER BY overwrite_at LIMIT $2
                FOR UPDATE SKIP LOCKED
                """,
                now, limit
            )
            var raisedCount = 0
            for row in rows {
                let id: UUID = try row.decode(0)
                let status = EvidenceTaskStatus(rawValue: try row.decode(1, as: String.self)) ?? .pending
                let released: Date? = try row.decode(7)
                let due = EvidenceTaskDue.at(
                    now, status: status, overwriteAt: try row.decode(2), ackDueAt: try row.decode(3), exportDueAt: try row.decode(4),
                    holdUntil: try row.decode(6), holdReleased: released != nil,
                    raised: Set(try row.decode(5, as: [String].self).compactMap(EvidenceAlert.init(rawValue:))), escalationLevel: try row.decode(8)
                )
                if !due.mark.isEmpty {
                    try await connection.query(
                        "UPDATE evidence_tasks SET raised = raised || $2::text[] WHERE id = $1", id, due.mark.map(\.rawValue).sorted()
                    )
                }
                let raised: [(EvidenceAlert?, EvidenceEscalation?)] = due.raise.map { ($0, nil) } + (due.escalation.map { [(nil, $0)] } ?? [])
                for (alert, escalation) in raised {
                    try await connection.query(
                        """
                        UPDATE evidence_tasks SET version = version + 1, updated_at = $3, at_risk = at_risk OR $2,
                                                  escalation_level = coalesce($4, escalation_level)
                        WHERE id = $1
                        """,
                        id, alert == .atRisk24h || alert == .atRisk2h, now, escalation?.level
                    )
                    let task = try await Self.tasks(.id(id), on: connection)[0]
                    let type = alert?.eventType ?? .evidenceTaskSLABreached
                    try await connection.append(.evidenceTask(type, task, alert: alert, escalation: escalation), at: now)
                    try await connection.recordAudit(
                        AuditActor.scheduler.event(
                            type.rawValue, .success, entityType: "evidence_task", entityID: id.uuidString.lowercased(),
                            detail: alert?.eventFields ?? escalation?.eventFields ?? [:])
                    )
                    raisedCount += 1
                }
            }
            return raisedCount
        }
    }
}
