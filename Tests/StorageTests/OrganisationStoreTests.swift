import Domain
import Foundation
import LibPQ
import Storage
import TestSupport
import Testing

@Suite("Storage: organisations and boroughs")
struct OrganisationStoreTests {
    @Test func theThirtyThreeLondonAuthoritiesAndFiveOthersAreInstalled() async throws {
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
                    "Mayor's Office for Policing and Crime",
                ])
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
            #expect(seen.count == 38)
            #expect(Set(seen.map(\.id)).count == 38)
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
}
