import Domain
import Foundation
import Testing

@Suite("Domain: API key format and key rules")
struct APIKeyTokenTests {
    @Test func generatedKeysParseBackAndDiffer() throws {
        let first = APIKeyToken.generate()
        let second = APIKeyToken.generate()
        #expect(first.text.hasPrefix("sl_live_"))
        #expect(first.text.count == 8 + 12 + 1 + 43)
        #expect(APIKeyToken(first.text) == first)
        #expect(first.prefix != second.prefix && first.secret != second.secret)
    }

    @Test(arguments: [
        "", "sl_live_", "Bearer sl_live_abc", "sl_test_abcdefghijkl_" + String(repeating: "A", count: 43),
        "sl_live_ABCDEFGHIJKL_" + String(repeating: "A", count: 43), "sl_live_abcdefghijkl_" + String(repeating: "A", count: 42),
        "sl_live_abcdefghijkl_" + String(repeating: "A", count: 42) + "=", "sl_live_abcdefghijkl-" + String(repeating: "A", count: 43),
        "sl_live_abcdefghijkl_" + String(repeating: "A", count: 42) + "'",
    ])
    func rejectsAnythingNotOfTheForm(text: String) {
        #expect(APIKeyToken(text) == nil)
    }

    private func principal(_ role: Role, _ organisation: UUID, covert: Bool = false) -> Principal {
        Principal(
            keyID: UUID(), keyPrefix: "abcdefghijkl", organisationID: organisation, organisationKind: .borough, role: role, covertAccess: covert)
    }

    @Test func partnerAdminsCreateKeysForTheirOwnOrganisationOnly() throws {
        let own = UUID()
        let other = UUID()
        let partner = principal(.partnerAdmin, own)
        try APIKeyRules.checkCreation(
            by: partner, organisationID: own, name: "desk", role: .operator, covertAccess: false, expiresAt: nil, now: Date())
        #expect(throws: Forbidden.self) {
            try APIKeyRules.checkCreation(
                by: partner, organisationID: other, name: "desk", role: .operator, covertAccess: false, expiresAt: nil, now: Date())
        }
        #expect(throws: Forbidden.self) {
            try APIKeyRules.checkCreation(
                by: partner, organisationID: own, name: "desk", role: .admin, covertAccess: false, expiresAt: nil, now: Date())
        }
        #expect(throws: Forbidden.self) {
            try APIKeyRules.checkCreation(
                by: partner, organisationID: own, name: "desk", role: .requester, covertAccess: true, expiresAt: nil, now: Date())
        }
        try APIKeyRules.checkCreation(
            by: principal(.partnerAdmin, own, covert: true), organisationID: own, name: "desk", role: .requester, covertAccess: true,
            expiresAt: nil, now: Date()
        )
        try APIKeyRules.checkCreation(
            by: principal(.admin, own), organisationID: other, name: "root", role: .admin, covertAccess: true, expiresAt: nil, now: Date()
        )
        for role in Role.allCases where role != .admin && role != .partnerAdmin {
            #expect(throws: Forbidden.self) {
                try APIKeyRules.checkCreation(
                    by: principal(role, own), organisationID: own, name: "x", role: .analyst, covertAccess: false, expiresAt: nil, now: Date())
            }
        }
    }

    @Test func listingsAreScopedToWhatTheCallerMaySee() throws {
        let own = UUID()
        let other = UUID()
        let admin = principal(.admin, own)
        let partner = principal(.partnerAdmin, own)
        #expect(try APIKeyRules.listScope(requested: nil, caller: admin) == nil)
        #expect(try APIKeyRules.listScope(requested: other, caller: admin) == other)
        #expect(try APIKeyRules.listScope(requested: nil, caller: partner) == own)
        #expect(try APIKeyRules.listScope(requested: own, caller: partner) == own)
        #expect(throws: Forbidden.self) { try APIKeyRules.listScope(requested: other, caller: partner) }
        #expect(AuditRules.scope(for: admin) == nil)
        #expect(AuditRules.scope(for: principal(.auditor, other)) == other)
    }

    @Test func namesAndExpiryAreValidated() {
        let admin = principal(.admin, UUID())
        let error = #expect(throws: ValidationError.self) {
            try APIKeyRules.checkCreation(
                by: admin, organisationID: UUID(), name: "  ", role: .analyst, covertAccess: false, expiresAt: Date(timeIntervalSinceNow: -1),
                now: Date()
            )
        }
        #expect(error?.problems.map(\.pointer) == ["/name", "/expires_at"])
    }
}
