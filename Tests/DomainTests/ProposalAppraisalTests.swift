import Domain
import Foundation
import Testing

/// The appraisal against figures computed apart from it (`docs/appraisal/reference.py`, decimal arithmetic at 50
/// digits), and the rules of a proposal that need no database.
@Suite("Domain: proposal appraisal and rules")
struct ProposalAppraisalTests {
    static let today = Day(year: 2026, month: 11, day: 29)!
    static let threeRoomCosts = OneOffCosts(
        fitOut: 60_000_000, network: 25_000_000, migration: 15_000_000, staffTransition: 10_000_000, other: 5_000_000)

    static func rooms(_ costs: [Int]) -> [RoomCostFacts] {
        costs.enumerated().map { index, cost in
            RoomCostFacts(
                id: UUID(), name: "Room \(index)", operatorOrganisationID: UUID(), annualCostPence: cost, operatorPositions: 4, staffFTE: 12.5,
                costsReviewedOn: today, cameras: 300, boroughsServed: ["E0900000\(index + 1)"])
        }
    }

    /// One row: the inputs and the reference figures.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let baseline: [Int]
        let proposed: Int
        let costs: OneOffCosts
        let parameters: AppraisalParameters
        let saving: Int
        let uplifted: Int
        let payback: Double?
        let npv: Int
        let low: Int
        let high: Int
        let lastFactor: Double
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "three rooms, 10 years", baseline: [120_000_000, 95_000_000, 110_000_000], proposed: 240_000_000, costs: threeRoomCosts,
            parameters: .greenBook, saving: 85_000_000, uplifted: 175_700_000, payback: 2.07, npv: 531_211_453, low: 389_829_161,
            high: 672_593_743, lastFactor: 0.7089188137),
        Case(
            name: "three rooms, 60 years (3.0 % after year 30)", baseline: [120_000_000, 95_000_000, 110_000_000], proposed: 240_000_000,
            costs: threeRoomCosts, parameters: AppraisalParameters(years: 60), saving: 85_000_000, uplifted: 175_700_000, payback: 2.07,
            npv: 1_981_197_058, low: 1_549_817_646, high: 2_412_576_472, lastFactor: 0.1467819879),
        Case(
            name: "three rooms, 60 years at 5 % then 4 %", baseline: [120_000_000, 95_000_000, 110_000_000], proposed: 240_000_000,
            costs: threeRoomCosts, parameters: AppraisalParameters(years: 60, discountRatePercent: 5, longTermDiscountRatePercent: 4),
            saving: 85_000_000, uplifted: 175_700_000, payback: 2.07, npv: 1_471_042_191, low: 1_141_693_753, high: 1_800_390_633,
            lastFactor: 0.0713379868),
        Case(
            name: "the shared room costs more to run", baseline: [120_000_000, 95_000_000, 110_000_000], proposed: 330_000_000,
            costs: threeRoomCosts, parameters: .greenBook, saving: -5_000_000, uplifted: 175_700_000, payback: nil, npv: -217_283_028,
            low: -208_966_422, high: -225_599_631, lastFactor: 0.7089188137),
        Case(
            name: "one year at 0 %, pennies rounded", baseline: [1_000_001], proposed: 0, costs: OneOffCosts(fitOut: 333),
            parameters: AppraisalParameters(years: 1, discountRatePercent: 0, longTermDiscountRatePercent: 0), saving: 1_000_001, uplifted: 413,
            payback: 0.0, npv: 999_588, low: 799_588, high: 1_199_588, lastFactor: 1),
        Case(
            name: "two rooms, 31 years (one year at the long-term rate)", baseline: [48_250_075, 51_125_050], proposed: 70_000_000,
            costs: OneOffCosts(fitOut: 12_345_678, migration: 2_500_000, other: 99), parameters: AppraisalParameters(years: 31),
            saving: 29_375_125, uplifted: 22_808_764, payback: 0.78, npv: 527_620_766, low: 417_534_863, high: 637_706_672,
            lastFactor: 0.3459013695),
    ]

    @Test(arguments: cases)
    func matchesTheIndependentlyComputedFigures(_ row: Case) {
        let appraisal = Appraisal(
            AppraisalInputs(
                parameters: row.parameters, oneOffCosts: row.costs, proposedAnnualCostPence: row.proposed, rooms: Self.rooms(row.baseline),
                positionsAfter: 6, arrangements: [], today: Self.today))
        #expect(appraisal.baselineAnnualCostPence == row.baseline.reduce(0, +))
        #expect(appraisal.annualSavingPence == row.saving)
        #expect(appraisal.oneOffCostPence == row.costs.total)
        #expect(appraisal.oneOffCostWithOptimismBiasPence == row.uplifted)
        #expect(appraisal.paybackYears == row.payback)
        #expect(appraisal.netPresentValuePence == row.npv)
        #expect(appraisal.netPresentValueLowSavingPence == row.low)
        #expect(appraisal.netPresentValueHighSavingPence == row.high)
        #expect(appraisal.years.count == row.parameters.years)
        #expect(abs((appraisal.years.last?.discountFactor ?? 0) - row.lastFactor) < 1e-10)
        #expect(appraisal.years.reduce(-row.uplifted) { $0 + $1.presentValuePence } == row.npv, "the year table adds up to the NPV")
    }

    @Test func countsCamerasPositionsBoroughsAndFlagsMissingOrStaleCostData() {
        var rooms = Self.rooms([100, 200, 300])
        rooms[1].operatorPositions = nil
        rooms[2].costsReviewedOn = Day(year: 2025, month: 11, day: 1)
        rooms[0].boroughsServed = ["E09000002", "E09000001"]
        let appraisal = Appraisal(
            AppraisalInputs(
                parameters: .greenBook, oneOffCosts: OneOffCosts(), proposedAnnualCostPence: 0, rooms: rooms, positionsAfter: 7,
                arrangements: [], today: Self.today))
        #expect(appraisal.cameras == 900)
        #expect(appraisal.positionsBefore == 8 && appraisal.camerasPerPositionBefore == 112.5)
        #expect(appraisal.positionsAfter == 7 && appraisal.camerasPerPositionAfter == 128.57)
        #expect(appraisal.staffFTEBefore == 37.5)
        #expect(appraisal.boroughsCovered == ["E09000001", "E09000002", "E09000003"])
        #expect(appraisal.roomsMissingCostData == [rooms[1].id])
        #expect(appraisal.roomsWithCostsOutOfDate == [rooms[2].id])
    }

    @Test func positionsAfterAreTheProposalsOrAnExistingHostsOwn() {
        let rooms = Self.rooms([100, 200])
        func proposal(_ host: ProposalHost) -> Proposal {
            Proposal(
                id: UUID(), leadOrganisationID: UUID(),
                draft: ProposalDraft(title: "T", controlRoomIDs: rooms.map(\.id), host: host, proposedAnnualCostPence: 1), status: .draft,
                participants: [], endorsements: [], submissionOverrideReason: nil, decision: nil, milestones: [], implementedAt: nil,
                implementedRoomID: nil, createdAt: Date(), updatedAt: Date(), version: 1)
        }
        let kept = AppraisalInputs(proposal: proposal(.existing(rooms[1].id)), rooms: rooms, arrangements: [], today: Self.today)
        #expect(kept.positionsAfter == 4)
        let given = AppraisalInputs(
            proposal: proposal(.existing(rooms[1].id, operatorPositions: 9)), rooms: rooms, arrangements: [], today: Self.today)
        #expect(given.positionsAfter == 9)
        let new = AppraisalInputs(
            proposal: proposal(ProposalHost(name: "New", location: Location(lat: 51.5, lon: -0.1), operatorPositions: 6)), rooms: rooms,
            arrangements: [], today: Self.today)
        #expect(new.positionsAfter == 6 && new.proposedAnnualCostPence == 1)
    }

    @Test func overridesChangeOnlyWhatTheyNameAndAreCheckedByParameter() throws {
        let inputs = AppraisalInputs(
            parameters: .greenBook, oneOffCosts: Self.threeRoomCosts, proposedAnnualCostPence: 240_000_000,
            rooms: Self.rooms([120_000_000, 95_000_000, 110_000_000]), positionsAfter: nil, arrangements: [], today: Self.today)
        let changed = try AppraisalOverrides(years: 60, oneOffCosts: [.network: 0]).applied(to: inputs)
        #expect(changed.parameters.years == 60 && changed.oneOffCosts.network == 0 && changed.oneOffCosts.fitOut == 60_000_000)
        #expect(changed.parameters.discountRatePercent == 3.5 && changed.proposedAnnualCostPence == 240_000_000)
        for (overrides, parameter) in [
            (AppraisalOverrides(years: 0), "years"), (AppraisalOverrides(years: 61), "years"),
            (AppraisalOverrides(discountRatePercent: 20.5), "discount_rate_percent"),
            (AppraisalOverrides(longTermDiscountRatePercent: -1), "long_term_discount_rate_percent"),
            (AppraisalOverrides(proposedAnnualCostPence: -1), "proposed_annual_cost_pence"),
            (AppraisalOverrides(oneOffCosts: [.staffTransition: -5]), "staff_transition_pence"),
        ] {
            #expect(throws: ValidationError([.init(parameter: parameter, detail: problemDetail(overrides, inputs))])) {
                try overrides.applied(to: inputs)
            }
        }
    }

    private func problemDetail(_ overrides: AppraisalOverrides, _ inputs: AppraisalInputs) -> String {
        do {
            _ = try overrides.applied(to: inputs)
            return "no problem"
        } catch { return error.problems.first?.detail ?? "" }
    }

    static let room = UUID()
    static let neighbour = UUID()

    @Test(arguments: [
        (ProposalHost.existing(room), [room], "/control_room_ids"),
        (ProposalHost.existing(UUID()), [room, neighbour], "/host/control_room_id"),
        (ProposalHost(controlRoomID: room, name: "New"), [room, neighbour], "/host"),
        (ProposalHost(name: "New", operatorPositions: 4), [room], "/host/location"),
        (ProposalHost(name: "New", location: Location(lat: 51.5, lon: -0.1)), [room], "/host/operator_positions"),
        (ProposalHost.existing(room), [room, room], "/control_room_ids"),
    ])
    func aDraftNamesEachBrokenRuleOfItsRoomsAndHost(_ host: ProposalHost, _ rooms: [UUID], _ pointer: String) {
        let draft = ProposalDraft(title: "Shared room", controlRoomIDs: rooms, host: host, proposedAnnualCostPence: 100)
        #expect(throws: ValidationError.self) { try draft.validate() }
        do { try draft.validate() } catch { #expect(error.problems.map(\.pointer).contains(pointer), "\(error.problems)") }
    }

    @Test func aDraftNamesOutOfRangeParametersAndNegativeCosts() {
        var draft = ProposalDraft(
            title: "Shared room", controlRoomIDs: [Self.room, Self.neighbour], host: .existing(Self.room), proposedAnnualCostPence: -1)
        draft.parameters = AppraisalParameters(years: 61, discountRatePercent: 21, longTermDiscountRatePercent: -0.5)
        draft.oneOffCosts.fitOut = -1
        draft.parameters.optimismBias.migration = 400
        do {
            try draft.validate()
            Issue.record("validated")
        } catch {
            #expect(
                Set(error.problems.map(\.pointer)) == [
                    "/parameters/years", "/parameters/discount_rate_percent", "/parameters/long_term_discount_rate_percent",
                    "/parameters/optimism_bias_percent/migration", "/one_off_costs_pence/fit_out", "/proposed_annual_cost_pence",
                ])
        }
    }

    static let moves: [(ProposalStatus, [ProposalAction])] = [
        (.draft, [.openConsultation, .withdraw]), (.consultation, [.submit, .withdraw]), (.submitted, [.decide, .withdraw]),
        (.approved, [.startImplementation]), (.implementing, [.completeImplementation]), (.rejected, []), (.implemented, []),
        (.withdrawn, []),
    ]

    @Test(arguments: moves)
    func theMachineAllowsExactlyTheMovesOfDesign43(_ status: ProposalStatus, _ allowed: [ProposalAction]) throws {
        #expect(ProposalMachine.actions(from: status) == allowed)
        for action in ProposalAction.allCases where !allowed.contains(action) {
            #expect(throws: StateConflict.self) { try ProposalMachine.next(from: status, by: action, allowedToCaller: allowed) }
        }
        for action in allowed {
            let next = try ProposalMachine.next(from: status, by: action, outcome: .rejected, allowedToCaller: allowed)
            #expect(next != status)
        }
    }

    @Test func onlyAMOPACPlannerDecidesAndOnlyStewardsMoveAProposal() throws {
        let lead = UUID()
        let proposal = Proposal(
            id: UUID(), leadOrganisationID: lead,
            draft: ProposalDraft(title: "T", controlRoomIDs: [Self.room, Self.neighbour], host: .existing(Self.room), proposedAnnualCostPence: 1),
            status: .submitted, participants: [lead, UUID()], endorsements: [], submissionOverrideReason: nil, decision: nil, milestones: [],
            implementedAt: nil, implementedRoomID: nil, createdAt: Date(), updatedAt: Date(), version: 1)
        func caller(_ role: Role, _ kind: OrganisationKind, _ org: UUID = UUID()) -> Principal {
            Principal(keyID: UUID(), keyPrefix: "sl_x", organisationID: org, organisationKind: kind, role: role, covertAccess: false)
        }
        #expect(ProposalRules.allowedActions(proposal, caller: caller(.planner, .mopac)) == [.decide, .withdraw])
        #expect(ProposalRules.allowedActions(proposal, caller: caller(.planner, .borough)) == [.withdraw])
        #expect(ProposalRules.allowedActions(proposal, caller: caller(.partnerAdmin, .borough, lead)) == [.withdraw])
        #expect(ProposalRules.allowedActions(proposal, caller: caller(.partnerAdmin, .borough)) == [])
        #expect(ProposalRules.allowedActions(proposal, caller: caller(.operator, .borough, lead)) == [])
        #expect(throws: Forbidden.self) { try ProposalRules.check(.decide, on: proposal, by: caller(.partnerAdmin, .borough, lead)) }
        // An override reason goes only with submit, and only a planner's is recorded when positions are missing.
        let planner = caller(.planner, .mopac)
        #expect(throws: ValidationError.self) { try ProposalRules.checkSubmission(proposal, by: .withdraw, overrideReason: "x", caller: planner) }
        #expect(try ProposalRules.checkSubmission(proposal, by: .withdraw, overrideReason: nil, caller: planner) == nil)
        #expect(try ProposalRules.checkSubmission(proposal, by: .submit, overrideReason: "Late.", caller: planner) == "Late.")
        #expect(throws: Forbidden.self) {
            try ProposalRules.checkSubmission(proposal, by: .submit, overrideReason: "Late.", caller: caller(.partnerAdmin, .borough, lead))
        }
        #expect(throws: StateConflict.self) { try ProposalRules.checkSubmission(proposal, by: .submit, overrideReason: nil, caller: planner) }
    }
}
