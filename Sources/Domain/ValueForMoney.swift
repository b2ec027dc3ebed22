import Foundation

/// One control room's value for money over the year to a date (DESIGN §4.5, PCD 167's "value for money
/// calculations"): what it costs a year per camera, per operator position and per fulfilled task, and how fast it
/// answers. Covert cameras and the tasks for them are never counted.
public struct RoomValue: Sendable, Hashable {
    public var controlRoomID: UUID
    public var name: String
    public var operatorOrganisationID: UUID
    public var operatorName: String
    /// Police staff embedded in it on the date.
    public var embedded: Bool
    public var annualCostPence: Int?
    /// Its cameras in service (operational or faulty) on the date.
    public var camerasInService: Int
    public var operatorPositions: Int?
    /// Its tasks exported in the year.
    public var fulfilledTasks: Int
    /// The median time, from a task's arrival, to acknowledge and to export, of its tasks that took that step in the year.
    public var medianAcknowledgeMinutes: Double?
    public var medianExportMinutes: Double?

    public init(
        controlRoomID: UUID, name: String, operatorOrganisationID: UUID, operatorName: String, embedded: Bool, annualCostPence: Int?,
        camerasInService: Int, operatorPositions: Int?, fulfilledTasks: Int, medianAcknowledgeMinutes: Double?, medianExportMinutes: Double?
    ) {
        self.controlRoomID = controlRoomID
        self.name = name
        self.operatorOrganisationID = operatorOrganisationID
        self.operatorName = operatorName
        self.embedded = embedded
        self.annualCostPence = annualCostPence
        self.camerasInService = camerasInService
        self.operatorPositions = operatorPositions
        self.fulfilledTasks = fulfilledTasks
        self.medianAcknowledgeMinutes = medianAcknowledgeMinutes
        self.medianExportMinutes = medianExportMinutes
    }

    /// The annual cost over each camera in service; `nil` without a cost or a camera.
    public var costPerCameraPence: Int? { Self.share(annualCostPence, camerasInService) }
    /// The annual cost over each staffed position; `nil` without a cost or a position.
    public var costPerPositionPence: Int? { Self.share(annualCostPence, operatorPositions) }
    /// The annual cost over each task exported in the year; `nil` without a cost or such a task.
    public var costPerFulfilledTaskPence: Int? { Self.share(annualCostPence, fulfilledTasks) }

    /// `total` over `count` in whole pence, halves rounded up; `nil` when either is missing or the count is 0.
    static func share(_ total: Int?, _ count: Int?) -> Int? {
        guard let total, let count, count > 0 else { return nil }
        return (2 * total + count) / (2 * count)
    }
}

/// The medians of each figure over a set of rooms (those that have the figure).
public struct ValueMedians: Sendable, Hashable {
    public var rooms: Int
    public var costPerCameraPence: Int?
    public var costPerPositionPence: Int?
    public var costPerFulfilledTaskPence: Int?
    public var medianAcknowledgeMinutes: Double?
    public var medianExportMinutes: Double?

    public init(_ rooms: [RoomValue]) {
        self.rooms = rooms.count
        func pence(_ values: [Int?]) -> Int? { Self.median(values.compactMap { $0.map(Double.init) }).map { Int($0.rounded()) } }
        costPerCameraPence = pence(rooms.map(\.costPerCameraPence))
        costPerPositionPence = pence(rooms.map(\.costPerPositionPence))
        costPerFulfilledTaskPence = pence(rooms.map(\.costPerFulfilledTaskPence))
        medianAcknowledgeMinutes = Self.median(rooms.compactMap(\.medianAcknowledgeMinutes)).map(\.roundedToTenth)
        medianExportMinutes = Self.median(rooms.compactMap(\.medianExportMinutes)).map(\.roundedToTenth)
    }

    /// The middle value, or the mean of the two middle ones; `nil` for none.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// Every active room's value for money over the year to `asOf`, beside London's medians, and rooms with police
/// staff embedded against the rest.
public struct ValueForMoney: Sendable, Hashable {
    public var asOf: Day
    /// The first day of the year counted: 364 days before `asOf`.
    public var from: Day
    public var rooms: [RoomValue]

    public init(asOf: Day, rooms: [RoomValue]) {
        self.asOf = asOf
        from = asOf.adding(days: -364)
        self.rooms = rooms
    }

    public var london: ValueMedians { ValueMedians(rooms) }
    public var embedded: ValueMedians { ValueMedians(rooms.filter(\.embedded)) }
    public var notEmbedded: ValueMedians { ValueMedians(rooms.filter { !$0.embedded }) }
}

/// One line of value for money as a report carries it: a room's figures, or medians over rooms.
public struct ValueLine: Sendable, Hashable, Codable {
    /// The room's name, or what the medians are over ("London", "embedded rooms", "other rooms").
    public var name: String
    /// How many rooms the medians are over; absent for a room.
    public var rooms: Int?
    public var embedded: Bool?
    public var fulfilledTasks: Int?
    public var costPerCameraPence: Int?
    public var costPerPositionPence: Int?
    public var costPerFulfilledTaskPence: Int?
    public var medianAcknowledgeMinutes: Double?
    public var medianExportMinutes: Double?

    public init(_ room: RoomValue) {
        name = room.name
        embedded = room.embedded
        fulfilledTasks = room.fulfilledTasks
        costPerCameraPence = room.costPerCameraPence
        costPerPositionPence = room.costPerPositionPence
        costPerFulfilledTaskPence = room.costPerFulfilledTaskPence
        medianAcknowledgeMinutes = room.medianAcknowledgeMinutes
        medianExportMinutes = room.medianExportMinutes
    }

    public init(_ name: String, _ medians: ValueMedians) {
        self.name = name
        rooms = medians.rooms
        costPerCameraPence = medians.costPerCameraPence
        costPerPositionPence = medians.costPerPositionPence
        costPerFulfilledTaskPence = medians.costPerFulfilledTaskPence
        medianAcknowledgeMinutes = medians.medianAcknowledgeMinutes
        medianExportMinutes = medians.medianExportMinutes
    }
}

/// Value for money in MOPAC's nightly report: every room over the year to the report's day, and the medians.
public struct ReportValueForMoney: Sendable, Hashable, Codable {
    public var from: Day
    public var rooms: [ValueLine]
    /// London's medians, then embedded rooms' and the others'.
    public var medians: [ValueLine]

    public init(_ value: ValueForMoney) {
        from = value.from
        rooms = value.rooms.map(ValueLine.init)
        medians = [
            ValueLine("London", value.london), ValueLine("Rooms with police embedded", value.embedded), ValueLine("Other rooms", value.notEmbedded),
        ]
    }
}
