import Domain
import Foundation
import Storage

/// The walk-through's two shared-room proposals, modelled on PCD 167's aims: three north London neighbours in
/// consultation (one objects), and a south London merger approved and being implemented. Made once, through the
/// same store calls the API makes, so each has its audit rows and events.
struct DemoProposals {
    let database: Database
    let actor: AuditActor

    /// Whether the demo proposals exist already.
    func exist() async throws -> Bool {
        let page = try await ProposalStore(database).list(ProposalFilter(), page: PageRequest(limit: 500, cursor: nil))
        return page.items.contains { $0.draft.title.hasPrefix("Demo: ") }
    }

    /// Makes both, as proposed by the planner whose key is `plannerKeyID`; returns their titles.
    func seed(plannerKeyID: UUID, mopac: UUID) async throws -> [String] {
        let store = ProposalStore(database)
        let north = ["E09000007", "E09000019", "E09000014"]  // Camden, Islington, Haringey
        let northRooms = try await rooms(north)
        var consultation = try await store.create(
            leadOrganisationID: mopac,
            draft: ProposalDraft(
                title: "Demo: A shared north London control room for Camden, Islington and Haringey",
                summary: "PCD 167 asked for an assessment of shared control rooms. Camden's room would host Islington's and Haringey's, "
                    + "with one operator floor, one VMS and one link to the MPS.",
                controlRoomIDs: northRooms, host: .existing(northRooms[0], operatorPositions: 12),
                oneOffCosts: OneOffCosts(
                    fitOut: 45_000_000, network: 30_000_000, migration: 12_000_000, staffTransition: 18_000_000, other: 5_000_000),
                proposedAnnualCostPence: try await runningCost(of: northRooms) * 72 / 100),
            keyID: plannerKeyID, actor: actor)
        consultation = try await move(consultation, .openConsultation, to: .consultation)
        let positions: [(String, EndorsementPosition, String)] = [
            ("E09000007", .support, "Camden supports hosting, subject to the fit-out programme."),
            ("E09000019", .support, "Islington supports; our operators would transfer under TUPE."),
            ("E09000014", .object, "Haringey objects: the Tottenham night-time economy needs a dedicated operator we would lose."),
        ]
        for (gss, position, comment) in positions {
            try await endorse(consultation, gss: gss, position: position, comment: comment)
        }

        let south = ["E09000008", "E09000029"]  // Croydon hosting the Sutton and Merton room
        let southRooms = try await rooms(south)
        var implementing = try await store.create(
            leadOrganisationID: mopac,
            draft: ProposalDraft(
                title: "Demo: Croydon hosts the Sutton and Merton control room",
                summary: "Sutton and Merton's shared room moves into Croydon's, which has spare positions and a new VMS.",
                controlRoomIDs: southRooms, host: .existing(southRooms[0], operatorPositions: 10),
                oneOffCosts: OneOffCosts(fitOut: 20_000_000, network: 15_000_000, migration: 8_000_000, staffTransition: 10_000_000),
                proposedAnnualCostPence: try await runningCost(of: southRooms) * 80 / 100, embeddingPlan: .carryOver),
            keyID: plannerKeyID, actor: actor)
        implementing = try await move(implementing, .openConsultation, to: .consultation)
        for (gss, comment) in [("E09000008", "Croydon supports."), ("E09000029", "Sutton and Merton support.")] {
            try await endorse(implementing, gss: gss, position: .support, comment: comment)
        }
        implementing = try await store.get(id: implementing.id) ?? implementing
        implementing = try await move(implementing, .submit, to: .submitted)
        let today = Day(database.clock.now())
        guard
            let decided = try await store.decide(
                id: implementing.id, expectedVersion: implementing.version, outcome: .approved, reference: "PCD 167", decidedOn: today,
                text: "Approved as the first shared room of the programme, with the milestones below.", actor: actor)
        else { throw CommandFailure(description: "the demo proposal vanished") }
        implementing = try await move(decided, .startImplementation, to: .implementing)
        let day = 86_400.0
        let now = database.clock.now()
        for (title, due, done) in [
            ("Business case signed off", now.addingTimeInterval(-60 * day), true),
            ("Network link between the rooms", now.addingTimeInterval(-7 * day), false),
            ("Sutton and Merton operators move to Croydon", now.addingTimeInterval(45 * day), false),
        ] {
            _ = try await store.saveMilestone(
                proposalID: implementing.id, title: title, dueOn: Day(due), completedOn: done ? Day(due) : nil, actor: actor)
        }
        return [consultation.draft.title, implementing.draft.title]
    }

    /// The demo room serving each borough, in order.
    private func rooms(_ boroughs: [String]) async throws -> [UUID] {
        var ids: [UUID] = []
        for code in boroughs {
            let page = try await ControlRoomStore(database).list(
                ControlRoomFilter(boroughServed: GSSCode(code), status: .active), page: PageRequest(limit: 50, cursor: nil))
            guard let room = page.items.first(where: { $0.draft.name.hasPrefix("Demo: ") && !$0.draft.name.contains("TfL") }) else {
                throw CommandFailure(description: "no demo room serves \(code)")
            }
            ids.append(room.id)
        }
        return ids
    }

    /// The rooms' running costs a year, added up.
    private func runningCost(of rooms: [UUID]) async throws -> Int {
        var total = 0
        for id in rooms { total += try await ControlRoomStore(database).get(id: id)?.draft.annualCostPence ?? 0 }
        return total
    }

    private func move(_ proposal: Proposal, _ action: ProposalAction, to status: ProposalStatus) async throws -> Proposal {
        guard
            let (moved, _) = try await ProposalStore(database).transition(
                id: proposal.id, expectedVersion: proposal.version, action: action, to: status, overrideReason: nil, actor: actor)
        else { throw CommandFailure(description: "the demo proposal vanished") }
        return moved
    }

    /// Records the position of `gss`'s authority through a partner-admin key made for the purpose and revoked at once.
    private func endorse(_ proposal: Proposal, gss: String, position: EndorsementPosition, comment: String) async throws {
        guard let organisation = try await OrganisationStore(database).resolve(gss) else {
            throw CommandFailure(description: "reference organisation \(gss) is missing")
        }
        let keys = APIKeyStore(database)
        let (key, _) = try await keys.create(
            organisationID: organisation.id, name: "demo: proposal position", role: .partnerAdmin, covertAccess: false, expiresAt: nil,
            createdBy: nil, actor: actor)
        _ = try await ProposalStore(database).endorse(
            id: proposal.id, organisationID: organisation.id, position: position, comment: comment, keyID: key.id, actor: actor)
        _ = try await keys.revoke(id: key.id, actor: actor)
    }
}
