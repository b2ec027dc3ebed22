import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LibPQ
import Storage
import TestSupport
import Testing

struct ValueForMoneyBody: Decodable {
    struct Room: Decodable {
        let name: String
        let embedded: Bool
        let cameras_in_service: Int
        let fulfilled_tasks: Int
        let annual_cost_pence: Int?
        let cost_per_camera_pence: Int?
        let cost_per_position_pence: Int?
        let cost_per_fulfilled_task_pence: Int?
        let median_acknowledge_minutes: Double?
        let median_export_minutes: Double?
    }
    struct Medians: Decodable {
        let rooms: Int
        let cost_per_camera_pence: Int?
        let cost_per_position_pence: Int?
        let cost_per_fulfilled_task_pence: Int?
        let median_acknowledge_minutes: Double?
        let median_export_minutes: Double?
    }
    let as_of: String
    let from: String
    let rooms: [Room]
    let london: Medians
    let embedded: Medians
    let not_embedded: Medians
}

@Suite("API: MOPAC's programme figures")
struct AnalyticsTests {
    @Test func valueForMoneyDividesEachRoomsCostAndTakesTheMediansOverTheRooms() async throws {
        try await TestDatabase.withFresh { pool, url in
            let clock = ManualClock()
            try await withApp(pool: pool, url: url, clock: clock) { client, keys in
                let day = try await ReportDay.make(pool, client, keys, clock)
                // Westminster's room: £1,000,000 a year, 4 positions, 4 cameras in service (the planned one and the
                // covert MPS camera not counted); TfL's: £500,000, 3 positions, 1 camera; a closed room is left out.
                try await pool.withConnection { connection in
                    try await connection.query(
                        "UPDATE control_rooms SET annual_cost_pence = 100000000, operator_positions = 4 WHERE id = $1", day.world.westminsterRoom)
                    try await connection.query(
                        "UPDATE control_rooms SET annual_cost_pence = 50000000, operator_positions = 3 WHERE id = $1", day.world.tflRoom)
                    try await connection.query(
                        "INSERT INTO control_rooms (operator_org_id, name, status) VALUES ($1, 'Closed', 'closed')", TestKeys.camden)
                }
                let response = try await client.send(.get, "/v1/analytics/value-for-money?as_of=2027-03-28", keys(.planner))
                #expect(response.status == .ok, "\(response.text)")
                let value = try response.decode(ValueForMoneyBody.self)
                #expect(value.as_of == "2027-03-28" && value.from == "2026-03-29")
                #expect(value.rooms.map(\.name) == ["TfL centre", "Westminster CCTV"])
                let westminster = try #require(value.rooms.first { $0.name == "Westminster CCTV" })
                // A and X acknowledged in 30 and 120 minutes; A exported in 180, the one task fulfilled.
                #expect(westminster.embedded && westminster.cameras_in_service == 4 && westminster.fulfilled_tasks == 1)
                #expect(westminster.cost_per_camera_pence == 25_000_000 && westminster.cost_per_position_pence == 25_000_000)
                #expect(westminster.cost_per_fulfilled_task_pence == 100_000_000)
                #expect(westminster.median_acknowledge_minutes == 75 && westminster.median_export_minutes == 180)
                let tfl = try #require(value.rooms.first { $0.name == "TfL centre" })
                #expect(!tfl.embedded && tfl.cameras_in_service == 1 && tfl.fulfilled_tasks == 0)
                #expect(tfl.cost_per_camera_pence == 50_000_000 && tfl.cost_per_position_pence == 16_666_667, "halves and above round up")
                #expect(tfl.cost_per_fulfilled_task_pence == nil, "nothing fulfilled: no figure, not a division by zero")
                #expect(tfl.median_acknowledge_minutes == 120 && tfl.median_export_minutes == nil)
                // London's medians over the rooms that have each figure; embedded against not.
                #expect(value.london.rooms == 2 && value.london.cost_per_camera_pence == 37_500_000)
                #expect(value.london.cost_per_position_pence == 20_833_334 && value.london.cost_per_fulfilled_task_pence == 100_000_000)
                #expect(value.london.median_acknowledge_minutes == 97.5 && value.london.median_export_minutes == 180)
                #expect(value.embedded.rooms == 1 && value.embedded.cost_per_camera_pence == 25_000_000)
                #expect(value.not_embedded.rooms == 1 && value.not_embedded.median_acknowledge_minutes == 120)

                // The year before: no task in it.
                let before = try await client.send(.get, "/v1/analytics/value-for-money?as_of=2026-03-28", keys(.analyst)).decode(
                    ValueForMoneyBody.self)
                #expect(before.rooms.allSatisfy { $0.fulfilled_tasks == 0 && $0.median_acknowledge_minutes == nil })

                // Bad dates are named; other roles may not ask.
                for query in ["as_of=2027-03-30", "as_of=2027-02-30", "as_of=yesterday"] {
                    let refused = try await client.send(.get, "/v1/analytics/value-for-money?" + query, keys(.planner))
                    #expect(refused.status == .badRequest && refused.text.contains("as_of"), "\(query): \(refused.text)")
                }
                #expect(try await client.send(.get, "/v1/analytics/value-for-money", keys(.operator)).status == .forbidden)
            }
        }
    }
}
