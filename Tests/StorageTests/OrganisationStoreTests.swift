import Domain
import Foundation
import LibPQ
import Storage
import TestSupport
import Testing

@Suite("Storage: organisations and boroughs")
struct OrganisationStoreTests {
    @Test func theThirtyThreeLondonAuthoritiesFiveOthersAndThePlatformOperatorAreInstalled() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let store = OrganisationStore(Database(pool: pool))
            let boroughs = try await store.listBoroughs(page: PageRequest(limit: 500, cursor: nil)).items
            #expect(boroughs.map(\.gssCode.rawValue) == (1...33).map { String(format: "E090000%02d", $0) })
            #expect(boroughs.first?.name == "City of London")
            #expect(boroughs.last?.name == "Westminster")
            let westminster = try #require(try await store.borough(gssCode: GSSCode("E09000033")!))
            let council = try #require(try await store.get(id: westminster.organisationID))
            #expect(council.kind == .borough && council.gssCode?.rawValue == "E09000033" && council.name == "Westminster City Council")

            let others = try await store.list(kind: nil, page: PageRequest(limit: 500, cursor: nil)).items.filter { $0.kind != .borough }
            #expect(
                Set(others.map(\.name)) == [
                    "Metropolitan Police Service", "City of London Police", "British Transport Police", "Transport for London",
                    "Mayor's Office for Policing and Crime", "Sightline platform operator",
                ])
            #expect(others.filter { $0.kind == .platform }.map(\.name) == ["Sightline platform operator"])
            #expect(others.allSatisfy { $0.gssCode == nil })
        }
    }

    @Test func pagesWalkEveryOrganisationOnceInNameOrder() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let store = OrganisationStore(Database(pool: pool))
            var seen: [Organisation] = []
            var cursor: String?
            repeat {
                let page = try await store.list(kind: nil, page: PageRequest(limit: 7, cursor: cursor))
                #expect(page.items.count <= 7)
                seen += page.items
                cursor = page.nextCursor?.encoded
            } while cursor != nil
            #expect(seen.count == 39)
            #expect(Set(seen.map(\.id)).count == 39)
            #expect(seen.map(\.name) == seen.map(\.name).sorted())

            let police = try await store.list(kind: .police, page: PageRequest(limit: 50, cursor: nil))
            #expect(police.items.count == 3 && police.nextCursor == nil)
        }
    }

    @Test func unknownIdsAndCodesAreNil() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let store = OrganisationStore(Database(pool: pool))
            let unknown = try await store.get(id: UUID())
            #expect(unknown == nil)
            let boroughCursor = Cursor(key: ["E09000005"]).encoded
            await #expect(throws: ValidationError.self) {
                try await store.list(kind: nil, page: PageRequest(limit: 5, cursor: boroughCursor))
            }
        }
    }

    @Test func theDatabaseRefusesAnAdminKeyOfAnyOrganisationButThePlatformOperator() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let keys = APIKeyStore(Database(pool: pool))
            let organisations = OrganisationStore(Database(pool: pool))
            let westminster = try #require(try await organisations.resolve("E09000033"))
            let platform = try #require(try await organisations.resolve("Sightline platform operator"))
            await #expect(throws: (any Error).self) {
                _ = try await keys.create(
                    organisationID: westminster.id, name: "root", role: .admin, covertAccess: false, expiresAt: nil, createdBy: nil,
                    actor: .commandLine("test"))
            }
            let (key, _) = try await keys.create(
                organisationID: platform.id, name: "root", role: .admin, covertAccess: false, expiresAt: nil, createdBy: nil,
                actor: .commandLine("test"))
            #expect(key.role == .admin)
            let admins: Int = try await pool.withConnection { try await $0.query("SELECT count(*) FROM api_keys WHERE role = 'admin'")[0].decode(0) }
            #expect(admins == 1)
        }
    }
}
