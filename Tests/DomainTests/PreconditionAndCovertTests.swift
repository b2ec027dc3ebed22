import Domain
import Foundation
import Testing

@Suite("Domain: If-Match preconditions and neither confirm nor deny")
struct PreconditionAndCovertTests {
    @Test(arguments: [
        (#""7""# as String?, 7, nil as PreconditionFailure?),
        (#""6", "7""#, 7, nil),
        ("*", 7, nil),
        (nil, 7, .missing),
        ("  ", 7, .missing),
        (#""6""#, 7, .stale(currentETag: #""7""#)),
        (#"W/"7""#, 7, .stale(currentETag: #""7""#)),
        // Not an entity tag: the client forgot the quotes, which is a mistake to name, not a stale version.
        ("7", 7, .malformed("7")),
        (#""7", 8"#, 7, .malformed(#""7", 8"#)),
        (#"*, "7""#, 7, .malformed(#"*, "7""#)),
        (#""7"#, 7, .malformed(#""7"#)),
    ])
    func ifMatchIsCheckedStrongly(header: String?, version: Int, expected: PreconditionFailure?) {
        do {
            try Preconditions.check(ifMatch: header, currentVersion: version)
            #expect(expected == nil, "\(String(describing: header)) should have failed")
        } catch {
            #expect(error == expected)
        }
    }

    @Test func theETagIsTheQuotedVersion() {
        #expect(Preconditions.etag(version: 12) == #""12""#)
    }

    private static let owner = UUID()
    private static let other = UUID()

    private static func caller(_ organisation: UUID, _ kind: OrganisationKind, covert: Bool, role: Role = .requester) -> Principal {
        Principal(keyID: UUID(), keyPrefix: "abcdefghijkl", organisationID: organisation, organisationKind: kind, role: role, covertAccess: covert)
    }

    @Test(arguments: [
        // A public camera is visible to every key.
        (false, caller(other, .business, covert: false), true),
        // A covert one: only with covert access, in the owning organisation or a police force.
        (true, caller(owner, .police, covert: true), true),
        (true, caller(other, .police, covert: true), true),
        (true, caller(owner, .borough, covert: true, role: .operator), true),
        (true, caller(other, .borough, covert: true), false),
        (true, caller(owner, .police, covert: false), false),
        (true, caller(other, .police, covert: false), false),
        (true, caller(other, .mopac, covert: true, role: .planner), false),
        (true, caller(other, .transport, covert: true), false),
    ])
    func covertCamerasAreKnownOnlyToCovertKeysOfTheOwnerOrThePolice(covert: Bool, caller: Principal, visible: Bool) {
        #expect(CovertRules.mayKnowOf(covert: covert, ownerOrganisationID: Self.owner, caller: caller) == visible)
    }
}
