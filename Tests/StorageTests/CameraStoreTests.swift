import Domain
import Foundation
import LibPQ
import Storage
import TestSupport
import Testing

@Suite("Storage: the camera registry and its generated data")
struct CameraStoreTests {
    private func value<T: PostgresDecodable>(_ sql: String, _ pool: PostgresPool, as type: T.Type = T.self) async throws -> T {
        try await pool.withConnection { try await $0.query(sql)[0].decode(0) }
    }

    @Test func syntheticCamerasStandInsideTheBoroughTheyAreRegisteredTo() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let added = try await RegistrySeeder(Database(pool: pool)).addSyntheticCameras(count: 5_000, actor: .commandLine("test"))
            #expect(added > 4_990 && added <= 5_000)
            let misplaced: Int = try await value(
                """
                SELECT count(*) FROM cameras c JOIN borough_boundaries bb ON bb.gss_code = c.borough_gss
                WHERE NOT ST_Covers(bb.boundary, c.location::geometry)
                """, pool
            )
            #expect(misplaced == 0)
            let boroughs: Int = try await value("SELECT count(DISTINCT borough_gss) FROM cameras", pool)
            #expect(boroughs == 33)
            let badDates: Int = try await value(
                "SELECT count(*) FROM cameras WHERE decommissioned_on > current_date OR (status = 'decommissioned') <> (decommissioned_on IS NOT NULL)",
                pool
            )
            #expect(badDates == 0)
            // Bexley is far larger than the City of London, and so gets far more cameras.
            let ratio: Double = try await value(
                "SELECT (count(*) FILTER (WHERE borough_gss = 'E09000004'))::float8 / greatest(1, count(*) FILTER (WHERE borough_gss = 'E09000001')) FROM cameras",
                pool
            )
            #expect(ratio > 5)
        }
    }

    @Test func nearAndBoxSearchesUseTheSpatialIndex() async throws {
        try await TestDatabase.withFresh { pool, _ in
            _ = try await RegistrySeeder(Database(pool: pool)).addSyntheticCameras(count: 20_000, actor: .commandLine("test"))
            try await pool.withConnection { _ = try await $0.query("ANALYZE cameras") }
            let store = CameraStore(Database(pool: pool))
            let near = try await store.plan(
                CameraFilter(near: NearSearch(centre: Location(lat: 51.5136, lon: -0.1365), radiusMetres: 200)), visibility: .none
            )
            #expect(near.contains("cameras_location"), "\(near)")
            let box = try await store.plan(
                CameraFilter(bbox: BoundingBox(minimum: Location(lat: 51.51, lon: -0.14), maximum: Location(lat: 51.52, lon: -0.13))),
                visibility: .all
            )
            #expect(box.contains("cameras_location"), "\(box)")
        }
    }

    @Test func theDemoRegistryHasARoomPerBoroughSharedRoomsAndCovertCameras() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let seeder = RegistrySeeder(Database(pool: pool))
            #expect(try await !seeder.hasDemoRegistry())
            let (rooms, cameras) = try await seeder.seedDemoRegistry(boroughCameras: 2_000, actor: .commandLine("test"))
            #expect(rooms == 31)
            #expect(cameras > 2_000 + 100 + 50)
            #expect(try await seeder.hasDemoRegistry())
            let unserved: Int = try await value(
                "SELECT count(*) FROM boroughs b WHERE NOT EXISTS (SELECT 1 FROM control_room_boroughs s JOIN control_rooms r ON r.id = s.control_room_id WHERE s.gss_code = b.gss_code AND r.operator_org_id <> sightline_reference_id('TfL'))",
                pool
            )
            #expect(unserved == 0)
            let shared: Int = try await value(
                "SELECT count(*) FROM (SELECT control_room_id FROM control_room_boroughs GROUP BY 1 HAVING count(*) = 2) s", pool
            )
            #expect(shared == 3)
            let models: [String] = try await pool.withConnection { connection in
                try await connection.query("SELECT DISTINCT model FROM embedding_arrangements ORDER BY 1").map { try $0.decode(0) }
            }
            #expect(models == ["embedded", "remote_link", "visiting"])
            let covert: Int = try await value("SELECT count(*) FROM cameras WHERE covert", pool)
            #expect(covert == 5)
            // Every camera's room is its owner's or a shared room serving its owner's borough.
            let wrongRoom: Int = try await value(
                """
                SELECT count(*) FROM cameras c JOIN control_rooms r ON r.id = c.control_room_id
                WHERE r.operator_org_id <> c.owner_org_id AND NOT EXISTS (
                    SELECT 1 FROM control_room_boroughs s JOIN boroughs b ON b.gss_code = s.gss_code
                    WHERE s.control_room_id = r.id AND b.organisation_id = c.owner_org_id)
                """, pool
            )
            #expect(wrongRoom == 0)
        }
    }
}
