import Domain
import Foundation
import LibPQ

/// MOPAC's figures of the PCD 167 programme (DESIGN §4.5), read from the registry and the evidence history.
public struct AnalyticsStore: Sendable {
    private let database: Database

    /// A store over `database`.
    public init(_ database: Database) { self.database = database }

    /// Every active room's value for money over the 365 London days to `asOf` (its cost facts and cameras as they
    /// are now; its tasks acknowledged and exported in those days), never counting covert cameras or tasks.
    public func valueForMoney(asOf: Day) async throws -> ValueForMoney {
        try await database.withConnection { connection in try await Self.valueForMoney(asOf: asOf, on: connection) }
    }

    /// The same, on `connection` (inside a report's snapshot).
    static func valueForMoney(asOf: Day, on connection: PostgresConnection) async throws -> ValueForMoney {
        let schedule = ReportSchedule.london
        let from = asOf.adding(days: -364)
        let start = schedule.interval(of: from).start
        let end = schedule.interval(of: asOf).end
        let rows = try await connection.query(
            """
            SELECT r.id, r.name, r.operator_org_id, o.name,
                   EXISTS (SELECT 1 FROM embedding_arrangements a WHERE a.control_room_id = r.id AND a.model = 'embedded'
                           AND a.starts_on <= $3 AND (a.ends_on IS NULL OR a.ends_on >= $3)),
                   r.annual_cost_pence, r.operator_positions,
                   (SELECT count(*) FROM cameras c WHERE c.control_room_id = r.id AND NOT c.covert AND c.status IN ('operational', 'faulty')),
                   t.fulfilled, t.acknowledge, t.export
            FROM control_rooms r JOIN organisations o ON o.id = r.operator_org_id
            CROSS JOIN LATERAL (
                SELECT count(*) FILTER (WHERE exported_at >= $1 AND exported_at < $2) AS fulfilled,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - created_at) / 60)
                           FILTER (WHERE acknowledged_at >= $1 AND acknowledged_at < $2) AS acknowledge,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM exported_at - created_at) / 60)
                           FILTER (WHERE exported_at >= $1 AND exported_at < $2) AS export
                FROM evidence_tasks
                WHERE control_room_id = r.id AND NOT covert AND (acknowledged_at >= $1 OR exported_at >= $1)
            ) t
            WHERE r.status = 'active'
            ORDER BY r.name, r.id
            """,
            start, end, PostgresDate(asOf))
        let rooms = try rows.map { row in
            RoomValue(
                controlRoomID: try row.decode(0), name: try row.decode(1), operatorOrganisationID: try row.decode(2),
                operatorName: try row.decode(3),
                embedded: try row.decode(4), annualCostPence: try row.decode(5), camerasInService: try row.decode(7),
                operatorPositions: try row.decode(6),
                fulfilledTasks: try row.decode(8), medianAcknowledgeMinutes: try row.decode(9, as: Double?.self).map(\.roundedToTenth),
                medianExportMinutes: try row.decode(10, as: Double?.self).map(\.roundedToTenth))
        }
        return ValueForMoney(asOf: asOf, rooms: rooms)
    }
}
