import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LibPQ
import Storage
import TestSupport
import Testing

/// Attack strings in every text parameter of the contract reach the database as values only: each request is
/// answered with a clean 2xx or 4xx (never a 500), and nothing in the database changes but what the request
/// legitimately creates.
@Suite("API: SQL injection strings in every text parameter")
struct InjectionTests {
    static let attacks = [
        "' OR '1'='1", "'; DROP TABLE api_keys; --", "1; DELETE FROM audit_log", "$1", "\\", "%", "_", "E09000033' --",
        "\u{0}", "Robert'); DELETE FROM organisations;--", String(repeating: "'", count: 300),
    ]

    /// Every text parameter, as a request with the attack in it (`@` marks the place), and the role to send it.
    static let places: [(operation: String, method: HTTPRequest.Method, path: String, body: String?, role: Role)] = [
        ("listOrganisations", .get, "/v1/organisations?kind=@", nil, .analyst),
        ("listOrganisations", .get, "/v1/organisations?cursor=@", nil, .analyst),
        ("getOrganisation", .get, "/v1/organisations/@", nil, .analyst),
        ("listBoroughs", .get, "/v1/boroughs?cursor=@", nil, .analyst),
        ("getBorough", .get, "/v1/boroughs/@", nil, .analyst),
        ("createAPIKey", .post, "/v1/api-keys", #"{"name": "@", "role": "analyst"}"#, .partnerAdmin),
        ("createAPIKey", .post, "/v1/api-keys", #"{"name": "x", "role": "@"}"#, .partnerAdmin),
        ("createAPIKey", .post, "/v1/api-keys", #"{"name": "x", "role": "analyst", "organisation_id": "@"}"#, .admin),
        ("listAPIKeys", .get, "/v1/api-keys?organisation_id=@", nil, .admin),
        ("listAPIKeys", .get, "/v1/api-keys?cursor=@", nil, .admin),
        ("revokeAPIKey", .post, "/v1/api-keys/@/revoke", nil, .admin),
        ("listControlRooms", .get, "/v1/control-rooms?borough=@", nil, .analyst),
        ("listControlRooms", .get, "/v1/control-rooms?operator_org_id=@", nil, .analyst),
        ("getControlRoom", .get, "/v1/control-rooms/@", nil, .analyst),
        ("createControlRoom", .post, "/v1/control-rooms", #"{"name": "@", "boroughs_served": ["E09000033"], "hours": "@"}"#, .operator),
        ("createControlRoom", .post, "/v1/control-rooms", #"{"name": "r", "boroughs_served": ["@"]}"#, .operator),
        ("updateControlRoom", .patch, "/v1/control-rooms/@", #"{"name": "@"}"#, .operator),
        ("listCameras", .get, "/v1/cameras?near=@&radius_m=100", nil, .analyst),
        ("listCameras", .get, "/v1/cameras?bbox=@", nil, .analyst),
        ("listCameras", .get, "/v1/cameras?borough=@", nil, .analyst),
        ("listCameras", .get, "/v1/cameras?owner_org_id=@&control_room_id=@", nil, .analyst),
        ("getCamera", .get, "/v1/cameras/@", nil, .analyst),
        ("createCamera", .post, "/v1/cameras", #"{"kind": "fixed", "location": {"lat": 51.5, "lon": -0.1}, "external_ref": "@"}"#, .operator),
        (
            "createCamera", .post, "/v1/cameras",
            #"{"kind": "fixed", "location": {"lat": 51.5, "lon": -0.1}, "borough_gss": "@", "commissioned_on": "@"}"#, .operator
        ),
        ("updateCamera", .patch, "/v1/cameras/@", #"{"external_ref": "@"}"#, .operator),
        ("decommissionCamera", .post, "/v1/cameras/@/decommission", #"{"decommissioned_on": "@"}"#, .operator),
        ("listEmbeddingArrangements", .get, "/v1/embedding-arrangements?active_on=@&police_org_id=@", nil, .analyst),
        ("getEmbeddingArrangement", .get, "/v1/embedding-arrangements/@", nil, .analyst),
        (
            "createEmbeddingArrangement", .post, "/v1/embedding-arrangements",
            #"{"control_room_id": "@", "police_org_id": "@", "model": "embedded", "starts_on": "@", "agreement_ref": "@"}"#, .operator
        ),
        ("endEmbeddingArrangement", .post, "/v1/embedding-arrangements/@/end", #"{"ends_on": "@"}"#, .operator),
        (
            "createEvidenceRequest", .post, "/v1/evidence-requests",
            #"{"crime_reference": "@", "incident_reference": "@", "offence": "@", "priority": "urgent", "authorised_by": "@", "legal_basis": "@", "notes": "@", "location": {"lat": 51.5, "lon": -0.1}, "window_from": "2026-01-01T10:00:00Z", "window_to": "2026-01-01T11:00:00Z"}"#,
            .requester
        ),
        (
            "createEvidenceRequest", .post, "/v1/evidence-requests",
            #"{"crime_reference": "c", "offence": "o", "priority": "urgent", "authorised_by": "a", "camera_ids": ["@"], "location": {"lat": 51.5, "lon": -0.1}, "window_from": "2026-01-01T10:00:00Z", "window_to": "2026-01-01T11:00:00Z"}"#,
            .requester
        ),
        ("listEvidenceRequests", .get, "/v1/evidence-requests?crime_reference=@&cursor=@", nil, .requester),
        ("listEvidenceTasks", .get, "/v1/evidence-tasks?control_room_id=@&request_id=@&cursor=@", nil, .operator),
        ("getEvidenceTask", .get, "/v1/evidence-tasks/@", nil, .operator),
        ("transitionEvidenceTask", .post, "/v1/evidence-tasks/@/transitions", #"{"action": "reject", "reason": "@", "notes": "@"}"#, .operator),
        (
            "registerEvidenceItem", .post, "/v1/evidence-tasks/@/items",
            #"{"exhibit_ref": "@", "file_name": "@", "format": "@", "size_bytes": 1, "sha256": "@", "recorded_from": "2026-01-01T10:00:00Z", "recorded_to": "2026-01-01T11:00:00Z"}"#,
            .operator
        ),
        ("handOverEvidenceItem", .post, "/v1/evidence-items/@/handover", #"{"received_by": "@", "notes": "@"}"#, .requester),
        ("listCustodyEvents", .get, "/v1/evidence-items/@/custody?cursor=@", nil, .requester),
        ("listEvents", .get, "/v1/events?cursor=@", nil, .analyst),
        ("listAuditLog", .get, "/v1/audit?action=@", nil, .admin),
        ("listAuditLog", .get, "/v1/audit?cursor=@", nil, .admin),
    ]

    private func fingerprint(_ pool: PostgresPool) async throws -> [Int] {
        try await pool.withConnection { connection in
            let row = try await connection.query(
                "SELECT (SELECT count(*) FROM organisations), (SELECT count(*) FROM boroughs), (SELECT count(*) FROM api_keys WHERE revoked_at IS NULL)"
            )[0]
            return [try row.decode(0), try row.decode(1), try row.decode(2)]
        }
    }

    @Test func everyTextParameterTakesAttacksAsValues() async throws {
        try await TestDatabase.withFresh { pool, url in
            try await withApp(pool: pool, url: url) { client, keys in
                let before = try await fingerprint(pool)
                var created = 0
                for place in Self.places {
                    for attack in Self.attacks {
                        let inPath = attack.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                        let inBody = String(decoding: try JSONEncoder().encode(attack), as: UTF8.self).dropFirst().dropLast()
                        var headers = keys(place.role)
                        if place.body != nil { headers[.contentType] = "application/json" }
                        let response = try await client.execute(
                            uri: place.path.replacingOccurrences(of: "@", with: inPath), method: place.method, headers: headers,
                            body: place.body.map { ByteBuffer(string: $0.replacingOccurrences(of: "@", with: String(inBody))) }
                        )
                        #expect((200..<500).contains(response.status.code), "\(place.operation) with \(attack.debugDescription): \(response.status)")
                        if response.status == .created && place.operation == "createAPIKey" { created += 1 }
                    }
                }
                // Only key names may hold such text, and each such key is exactly one new row.
                let after = try await fingerprint(pool)
                #expect(after == [before[0], before[1], before[2] + created])
                let verified = try await AuditStore(Database(pool: pool)).verify()
                #expect(verified.isValid)
            }
        }
    }
}
