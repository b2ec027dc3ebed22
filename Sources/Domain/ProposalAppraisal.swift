import Foundation

/// The categories of one-off cost a shared room brings.
public enum OneOffCategory: String, Sendable, Hashable, CaseIterable, Codable {
    case fitOut = "fit_out"
    case network
    case migration
    case staffTransition = "staff_transition"
    case other
}

/// An amount in pence for each category of one-off cost.
public struct OneOffCosts: Sendable, Hashable, Codable {
    public var fitOut: Int
    public var network: Int
    public var migration: Int
    public var staffTransition: Int
    public var other: Int

    enum CodingKeys: String, CodingKey {
        case fitOut = "fit_out"
        case network, migration
        case staffTransition = "staff_transition"
        case other
    }

    /// Costs from their parts; a category not named costs nothing.
    public init(fitOut: Int = 0, network: Int = 0, migration: Int = 0, staffTransition: Int = 0, other: Int = 0) {
        self.fitOut = fitOut
        self.network = network
        self.migration = migration
        self.staffTransition = staffTransition
        self.other = other
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            fitOut: try c.decodeIfPresent(Int.self, forKey: .fitOut) ?? 0, network: try c.decodeIfPresent(Int.self, forKey: .network) ?? 0,
            migration: try c.decodeIfPresent(Int.self, forKey: .migration) ?? 0,
            staffTransition: try c.decodeIfPresent(Int.self, forKey: .staffTransition) ?? 0,
            other: try c.decodeIfPresent(Int.self, forKey: .other) ?? 0
        )
    }

    /// The amount of `category`.
    public subscript(category: OneOffCategory) -> Int {
        get {
            switch category {
            case .fitOut: fitOut
            case .network: network
            case .migration: migration
            case .staffTransition: staffTransition
            case .other: other
            }
        }
        set {
            switch category {
            case .fitOut: fitOut = newValue
            case .network: network = newValue
            case .migration: migration = newValue
            case .staffTransition: staffTransition = newValue
            case .other: other = newValue
            }
        }
    }

    /// Every category's amount added up.
    public var total: Int { OneOffCategory.allCases.reduce(0) { $0 + self[$1] } }

    /// A problem for each negative or implausibly large amount, under `pointer`.
    public func problems(at pointer: String) -> [FieldProblem] {
        OneOffCategory.allCases.compactMap { category in
            Money.problem(self[category], at: pointer + "/" + category.rawValue)
        }
    }
}

/// Rules for amounts of money, which are integer pence throughout.
public enum Money {
    /// The largest amount any field takes: £100 billion, far beyond any room, and far from overflow once discounted
    /// and added up over 60 years.
    public static let maximumPence = 10_000_000_000_000

    /// A problem if `pence` is negative or beyond `maximumPence`.
    public static func problem(_ pence: Int, at pointer: String) -> FieldProblem? {
        if pence < 0 { return FieldProblem(pointer: pointer, detail: "must not be negative") }
        if pence > maximumPence { return FieldProblem(pointer: pointer, detail: "must be at most \(maximumPence) pence (£100 billion)") }
        return nil
    }
}

/// The uplift for optimism bias on each category of one-off cost, in percent, and where the figures come from.
public struct OptimismBias: Sendable, Hashable, Codable {
    public var fitOut: Double
    public var network: Double
    public var migration: Double
    public var staffTransition: Double
    public var other: Double
    /// The source of the figures, shown with every appraisal.
    public var source: String

    enum CodingKeys: String, CodingKey {
        case fitOut = "fit_out"
        case network, migration
        case staffTransition = "staff_transition"
        case other, source
    }

    /// The Green Book's upper bounds for capital expenditure (HM Treasury, *Supplementary Green Book Guidance:
    /// Optimism Bias*, 2003, table 1), each category mapped to the project type nearest it: fit-out to standard
    /// buildings (24 %), network to standard civil engineering (44 %), migration of the video systems to
    /// equipment and development (200 %), staff transition to outsourcing (41 %), and anything else to standard
    /// buildings. The guidance starts from the upper bounds and lowers them as a project's risks are managed.
    public static let greenBookUpperBounds = OptimismBias(
        fitOut: 24, network: 44, migration: 200, staffTransition: 41, other: 24,
        source:
            "HM Treasury Green Book supplementary guidance on optimism bias (2003), upper bounds: fit-out as standard buildings, "
            + "network as standard civil engineering, migration as equipment and development, staff transition as outsourcing, "
            + "other as standard buildings"
    )

    /// Uplifts from their parts.
    public init(fitOut: Double, network: Double, migration: Double, staffTransition: Double, other: Double, source: String) {
        self.fitOut = fitOut
        self.network = network
        self.migration = migration
        self.staffTransition = staffTransition
        self.other = other
        self.source = source
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self.greenBookUpperBounds
        self.init(
            fitOut: try c.decodeIfPresent(Double.self, forKey: .fitOut) ?? defaults.fitOut,
            network: try c.decodeIfPresent(Double.self, forKey: .network) ?? defaults.network,
            migration: try c.decodeIfPresent(Double.self, forKey: .migration) ?? defaults.migration,
            staffTransition: try c.decodeIfPresent(Double.self, forKey: .staffTransition) ?? defaults.staffTransition,
            other: try c.decodeIfPresent(Double.self, forKey: .other) ?? defaults.other,
            source: try c.decodeIfPresent(String.self, forKey: .source) ?? defaults.source
        )
    }

    /// The uplift of `category`, in percent.
    public subscript(category: OneOffCategory) -> Double {
        switch category {
        case .fitOut: fitOut
        case .network: network
        case .migration: migration
        case .staffTransition: staffTransition
        case .other: other
        }
    }

    /// A problem for each uplift outside 0–300 % and for a missing source, under `pointer`.
    public func problems(at pointer: String) -> [FieldProblem] {
        var problems = OneOffCategory.allCases.compactMap { category -> FieldProblem? in
            let value = self[category]
            return value.isFinite && (0...300).contains(value)
                ? nil : FieldProblem(pointer: pointer + "/" + category.rawValue, detail: "must be from 0 to 300 percent")
        }
        if let problem = TextRules.problem(source, at: pointer + "/source", maximum: 500, required: true) { problems.append(problem) }
        return problems
    }
}

/// The parameters of a proposal's appraisal.
public struct AppraisalParameters: Sendable, Hashable, Codable {
    /// The appraisal period in years after year 0: 1 to 60.
    public var years: Int
    /// The discount rate for years 0–30, in percent: the Green Book's social time preference rate, 3.5.
    public var discountRatePercent: Double
    /// The discount rate from year 31, in percent: the Green Book's 3.0.
    public var longTermDiscountRatePercent: Double
    public var optimismBias: OptimismBias

    /// The last year discounted at `discountRatePercent`; later years use `longTermDiscountRatePercent`.
    public static let shortTermYears = 30
    /// The longest appraisal period.
    public static let maximumYears = 60
    /// The Green Book defaults: 10 years at 3.5 % (3.0 % after year 30), upper-bound optimism bias.
    public static let greenBook = AppraisalParameters()

    enum CodingKeys: String, CodingKey {
        case years
        case discountRatePercent = "discount_rate_percent"
        case longTermDiscountRatePercent = "long_term_discount_rate_percent"
        case optimismBias = "optimism_bias_percent"
    }

    /// Parameters from their parts; each defaults to the Green Book's.
    public init(
        years: Int = 10, discountRatePercent: Double = 3.5, longTermDiscountRatePercent: Double = 3.0,
        optimismBias: OptimismBias = .greenBookUpperBounds
    ) {
        self.years = years
        self.discountRatePercent = discountRatePercent
        self.longTermDiscountRatePercent = longTermDiscountRatePercent
        self.optimismBias = optimismBias
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            years: try c.decodeIfPresent(Int.self, forKey: .years) ?? 10,
            discountRatePercent: try c.decodeIfPresent(Double.self, forKey: .discountRatePercent) ?? 3.5,
            longTermDiscountRatePercent: try c.decodeIfPresent(Double.self, forKey: .longTermDiscountRatePercent) ?? 3.0,
            optimismBias: try c.decodeIfPresent(OptimismBias.self, forKey: .optimismBias) ?? .greenBookUpperBounds
        )
    }

    /// A problem for each parameter out of range, under `pointer`.
    public func problems(at pointer: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if !(1...Self.maximumYears).contains(years) {
            problems.append(.init(pointer: pointer + "/years", detail: "must be from 1 to \(Self.maximumYears) years"))
        }
        for (rate, name) in [(discountRatePercent, "discount_rate_percent"), (longTermDiscountRatePercent, "long_term_discount_rate_percent")]
        where !(rate.isFinite && (0...20).contains(rate)) {
            problems.append(.init(pointer: pointer + "/" + name, detail: "must be from 0 to 20 percent"))
        }
        return problems + optimismBias.problems(at: pointer + "/optimism_bias_percent")
    }

    /// The factor that brings an amount of year `year` to its present value: 1 / (1 + r)^year up to year 30,
    /// then that year's factor discounted further at the long-term rate.
    public func discountFactor(year: Int) -> Double {
        let short = 1 + discountRatePercent / 100
        let long = 1 + longTermDiscountRatePercent / 100
        let shortYears = min(year, Self.shortTermYears)
        return 1 / (pow(short, Double(shortYears)) * pow(long, Double(max(0, year - Self.shortTermYears))))
    }
}

/// The cost facts of one participating room, as the registry holds them.
public struct RoomCostFacts: Sendable, Hashable {
    public var id: UUID
    public var name: String
    public var operatorOrganisationID: UUID
    public var annualCostPence: Int?
    public var operatorPositions: Int?
    public var staffFTE: Double?
    public var costsReviewedOn: Day?
    /// Cameras in service that the room monitors (operational or faulty; never covert ones, which are not counted).
    public var cameras: Int
    public var boroughsServed: [String]

    /// Facts from their parts.
    public init(
        id: UUID, name: String, operatorOrganisationID: UUID, annualCostPence: Int?, operatorPositions: Int?, staffFTE: Double?,
        costsReviewedOn: Day?, cameras: Int, boroughsServed: [String]
    ) {
        self.id = id
        self.name = name
        self.operatorOrganisationID = operatorOrganisationID
        self.annualCostPence = annualCostPence
        self.operatorPositions = operatorPositions
        self.staffFTE = staffFTE
        self.costsReviewedOn = costsReviewedOn
        self.cameras = cameras
        self.boroughsServed = boroughsServed
    }
}

/// A police arrangement in one of a proposal's rooms, which implementing it carries over or ends.
public struct AffectedArrangement: Sendable, Hashable {
    public var id: UUID
    public var controlRoomID: UUID
    public var policeOrganisationID: UUID
    public var model: EmbeddingModel
    public var staffCount: Int?

    /// An arrangement from its parts.
    public init(id: UUID, controlRoomID: UUID, policeOrganisationID: UUID, model: EmbeddingModel, staffCount: Int?) {
        self.id = id
        self.controlRoomID = controlRoomID
        self.policeOrganisationID = policeOrganisationID
        self.model = model
        self.staffCount = staffCount
    }
}

/// What can be changed in an appraisal to ask "what if", without changing the proposal.
public struct AppraisalOverrides: Sendable, Hashable {
    public var years: Int?
    public var discountRatePercent: Double?
    public var longTermDiscountRatePercent: Double?
    public var proposedAnnualCostPence: Int?
    public var oneOffCosts: [OneOffCategory: Int]

    /// Overrides from their parts; `nil` keeps the proposal's own figure.
    public init(
        years: Int? = nil, discountRatePercent: Double? = nil, longTermDiscountRatePercent: Double? = nil, proposedAnnualCostPence: Int? = nil,
        oneOffCosts: [OneOffCategory: Int] = [:]
    ) {
        self.years = years
        self.discountRatePercent = discountRatePercent
        self.longTermDiscountRatePercent = longTermDiscountRatePercent
        self.proposedAnnualCostPence = proposedAnnualCostPence
        self.oneOffCosts = oneOffCosts
    }

    /// Whether any figure is overridden.
    public var isEmpty: Bool {
        years == nil && discountRatePercent == nil && longTermDiscountRatePercent == nil && proposedAnnualCostPence == nil && oneOffCosts.isEmpty
    }

    /// The inputs with the overrides applied, checked as a proposal's are (each problem named by its query parameter).
    public func applied(to inputs: AppraisalInputs) throws(ValidationError) -> AppraisalInputs {
        var result = inputs
        if let years { result.parameters.years = years }
        if let discountRatePercent { result.parameters.discountRatePercent = discountRatePercent }
        if let longTermDiscountRatePercent { result.parameters.longTermDiscountRatePercent = longTermDiscountRatePercent }
        if let proposedAnnualCostPence { result.proposedAnnualCostPence = proposedAnnualCostPence }
        for (category, pence) in oneOffCosts { result.oneOffCosts[category] = pence }
        let problems = result.problems(at: "").map { problem in
            // Query parameters are named flat: `/parameters/years` is asked for as `years`, `/one_off_costs_pence/network` as `network_pence`.
            let name = problem.pointer.split(separator: "/").last.map(String.init) ?? ""
            let parameter = inputs.oneOffCategoryPointers.contains(problem.pointer) ? name + "_pence" : name
            return FieldProblem(parameter: parameter, detail: problem.detail)
        }
        guard problems.isEmpty else { throw ValidationError(problems) }
        return result
    }
}

/// Everything an appraisal is computed from: the proposal's figures and the participating rooms' facts.
public struct AppraisalInputs: Sendable, Hashable {
    public var parameters: AppraisalParameters
    public var oneOffCosts: OneOffCosts
    public var proposedAnnualCostPence: Int
    /// The participating rooms, the host among them if it exists already.
    public var rooms: [RoomCostFacts]
    /// Operator positions in the merged room; `nil` keeps the host's own (and is unknown for a new room).
    public var positionsAfter: Int?
    /// The live police arrangements in the participating rooms.
    public var arrangements: [AffectedArrangement]
    /// The day the appraisal is made, which decides whether a room's costs are out of date.
    public var today: Day

    /// Inputs from their parts.
    public init(
        parameters: AppraisalParameters, oneOffCosts: OneOffCosts, proposedAnnualCostPence: Int, rooms: [RoomCostFacts], positionsAfter: Int?,
        arrangements: [AffectedArrangement], today: Day
    ) {
        self.parameters = parameters
        self.oneOffCosts = oneOffCosts
        self.proposedAnnualCostPence = proposedAnnualCostPence
        self.rooms = rooms
        self.positionsAfter = positionsAfter
        self.arrangements = arrangements
        self.today = today
    }

    /// The inputs of `proposal`'s appraisal from its participating rooms' facts and arrangements: positions after
    /// the merger are the proposal's, or an existing host's own.
    public init(proposal: Proposal, rooms: [RoomCostFacts], arrangements: [AffectedArrangement], today: Day) {
        let host = proposal.draft.host
        self.init(
            parameters: proposal.draft.parameters, oneOffCosts: proposal.draft.oneOffCosts,
            proposedAnnualCostPence: proposal.draft.proposedAnnualCostPence, rooms: rooms,
            positionsAfter: host.operatorPositions ?? rooms.first { $0.id == host.controlRoomID }?.operatorPositions,
            arrangements: arrangements, today: today)
    }

    fileprivate var oneOffCategoryPointers: Set<String> { Set(OneOffCategory.allCases.map { "/one_off_costs_pence/" + $0.rawValue }) }

    /// A problem for each figure out of range, under `pointer`.
    public func problems(at pointer: String) -> [FieldProblem] {
        parameters.problems(at: pointer + "/parameters") + oneOffCosts.problems(at: pointer + "/one_off_costs_pence")
            + [Money.problem(proposedAnnualCostPence, at: pointer + "/proposed_annual_cost_pence")].compactMap { $0 }
    }
}

/// One year of the appraisal: what the change saves that year, and its present value.
public struct AppraisalYear: Sendable, Hashable {
    public var year: Int
    public var discountFactor: Double
    public var savingPence: Int
    public var presentValuePence: Int
}

/// A one-off cost category with its optimism-bias uplift.
public struct UpliftedCost: Sendable, Hashable {
    public var category: OneOffCategory
    public var costPence: Int
    public var upliftPercent: Double
    public var upliftPence: Int
    /// The cost with its uplift.
    public var adjustedPence: Int { costPence + upliftPence }
}

/// A proposal's value for money: today's rooms against the proposed shared room (DESIGN §4.3), over the
/// appraisal period at the Green Book's discount rates, with costs uplifted for optimism bias.
///
/// Money is integer pence. One-off costs fall in year 0; the annual saving (baseline less proposed running
/// cost) in each of years 1 to `years`. Each year's present value is rounded to the penny (half away from
/// zero), and the net present value is their sum less the uplifted one-off cost, so the year table adds up
/// exactly. The sensitivity repeats the sum with the saving at 80 % and 120 %.
public struct Appraisal: Sendable, Hashable {
    public var parameters: AppraisalParameters
    /// The participating rooms' running costs added up.
    public var baselineAnnualCostPence: Int
    public var proposedAnnualCostPence: Int
    public var annualSavingPence: Int
    public var oneOffCosts: [UpliftedCost]
    public var oneOffCostPence: Int
    public var oneOffCostWithOptimismBiasPence: Int
    /// Years for the saving to repay the uplifted one-off cost; `nil` when nothing is saved.
    public var paybackYears: Double?
    public var netPresentValuePence: Int
    /// The net present value with the saving at 80 % and at 120 %.
    public var netPresentValueLowSavingPence: Int
    public var netPresentValueHighSavingPence: Int
    public var years: [AppraisalYear]
    /// Cameras in service in the participating rooms.
    public var cameras: Int
    public var positionsBefore: Int
    public var positionsAfter: Int?
    public var camerasPerPositionBefore: Double?
    public var camerasPerPositionAfter: Double?
    public var staffFTEBefore: Double
    public var boroughsCovered: [String]
    public var arrangementsAffected: [AffectedArrangement]
    /// Rooms with no running cost or no operator positions recorded: the appraisal counts them as nothing.
    public var roomsMissingCostData: [UUID]
    /// Rooms whose costs nobody has reviewed in the last year.
    public var roomsWithCostsOutOfDate: [UUID]

    /// The appraisal of `inputs`.
    public init(_ inputs: AppraisalInputs) {
        let parameters = inputs.parameters
        self.parameters = parameters
        baselineAnnualCostPence = inputs.rooms.reduce(0) { $0 + ($1.annualCostPence ?? 0) }
        proposedAnnualCostPence = inputs.proposedAnnualCostPence
        annualSavingPence = baselineAnnualCostPence - proposedAnnualCostPence
        oneOffCosts = OneOffCategory.allCases.map { category in
            let cost = inputs.oneOffCosts[category]
            let percent = parameters.optimismBias[category]
            return UpliftedCost(category: category, costPence: cost, upliftPercent: percent, upliftPence: Self.pence(Double(cost) * percent / 100))
        }
        oneOffCostPence = inputs.oneOffCosts.total
        let oneOff = oneOffCosts.reduce(0) { $0 + $1.adjustedPence }
        let saving = annualSavingPence
        oneOffCostWithOptimismBiasPence = oneOff
        paybackYears = saving > 0 ? (Double(oneOff) / Double(saving) * 100).rounded() / 100 : nil
        let factors = (1...max(1, parameters.years)).map { parameters.discountFactor(year: $0) }
        years = factors.enumerated().map { index, factor in
            AppraisalYear(year: index + 1, discountFactor: factor, savingPence: saving, presentValuePence: Self.pence(Double(saving) * factor))
        }
        func npv(savingShare: Double) -> Int {
            factors.reduce(-oneOff) { sum, factor in sum + Self.pence(Double(saving) * savingShare * factor) }
        }
        netPresentValuePence = years.reduce(-oneOff) { $0 + $1.presentValuePence }
        netPresentValueLowSavingPence = npv(savingShare: 0.8)
        netPresentValueHighSavingPence = npv(savingShare: 1.2)
        let cameras = inputs.rooms.reduce(0) { $0 + $1.cameras }
        let positionsBefore = inputs.rooms.reduce(0) { $0 + ($1.operatorPositions ?? 0) }
        self.cameras = cameras
        self.positionsBefore = positionsBefore
        positionsAfter = inputs.positionsAfter
        camerasPerPositionBefore = positionsBefore > 0 ? Self.ratio(cameras, positionsBefore) : nil
        camerasPerPositionAfter = inputs.positionsAfter.flatMap { $0 > 0 ? Self.ratio(cameras, $0) : nil }
        staffFTEBefore = inputs.rooms.reduce(0) { $0 + ($1.staffFTE ?? 0) }
        boroughsCovered = Array(Set(inputs.rooms.flatMap(\.boroughsServed))).sorted()
        arrangementsAffected = inputs.arrangements
        roomsMissingCostData = inputs.rooms.filter { $0.annualCostPence == nil || $0.operatorPositions == nil }.map(\.id)
        let yearAgo = inputs.today.daysSince1970 - 365
        roomsWithCostsOutOfDate = inputs.rooms.filter { room in room.costsReviewedOn.map { $0.daysSince1970 < yearAgo } ?? true }.map(\.id)
    }

    /// `amount` rounded to the penny, half away from zero.
    static func pence(_ amount: Double) -> Int { Int(amount.rounded(.toNearestOrAwayFromZero)) }

    /// `count` per `per`, to two decimal places.
    static func ratio(_ count: Int, _ per: Int) -> Double { (Double(count) / Double(per) * 100).rounded() / 100 }
}
