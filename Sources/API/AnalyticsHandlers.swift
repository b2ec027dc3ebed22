import Domain
import Foundation
import OpenAPIRuntime
import Storage

/// `/v1/analytics`: MOPAC's figures of the PCD 167 programme (DESIGN §4.5).
extension SightlineAPI {
    func getValueForMoney(_ input: Operations.GetValueForMoney.Input) async throws -> Operations.GetValueForMoney.Output {
        _ = try Caller.required()
        let today = ReportSchedule.london.day(of: clock.now())
        let asOf = try Day.parse(input.query.asOf, at: "#/parameters/as_of") ?? today
        guard asOf <= today else { throw ValidationError([.init(parameter: "as_of", detail: "must not be after today (\(today))")]) }
        let value = try await analytics.valueForMoney(asOf: asOf)
        return .ok(
            .init(
                body: .json(
                    .init(
                        asOf: value.asOf.description, from: value.from.description, rooms: value.rooms.map(Components.Schemas.RoomValue.init),
                        london: .init(value.london), embedded: .init(value.embedded), notEmbedded: .init(value.notEmbedded)))))
    }
}

extension Components.Schemas.ValueFigures {
    init(costPerCamera: Int?, costPerPosition: Int?, costPerFulfilledTask: Int?, acknowledge: Double?, export: Double?) {
        self.init(
            costPerCameraPence: costPerCamera, costPerPositionPence: costPerPosition, costPerFulfilledTaskPence: costPerFulfilledTask,
            medianAcknowledgeMinutes: acknowledge, medianExportMinutes: export)
    }
}

extension Components.Schemas.ValueMedians {
    init(_ medians: ValueMedians) {
        self.init(
            value1: .init(
                costPerCamera: medians.costPerCameraPence, costPerPosition: medians.costPerPositionPence,
                costPerFulfilledTask: medians.costPerFulfilledTaskPence, acknowledge: medians.medianAcknowledgeMinutes,
                export: medians.medianExportMinutes),
            value2: .init(rooms: medians.rooms))
    }
}

extension Components.Schemas.RoomValue {
    init(_ room: Domain.RoomValue) {
        self.init(
            value1: .init(
                costPerCamera: room.costPerCameraPence, costPerPosition: room.costPerPositionPence,
                costPerFulfilledTask: room.costPerFulfilledTaskPence,
                acknowledge: room.medianAcknowledgeMinutes, export: room.medianExportMinutes),
            value2: .init(
                controlRoomId: room.controlRoomID.uuidString.lowercased(), name: room.name,
                operatorOrgId: room.operatorOrganisationID.uuidString.lowercased(), operatorName: room.operatorName, embedded: room.embedded,
                annualCostPence: room.annualCostPence, camerasInService: room.camerasInService, operatorPositions: room.operatorPositions,
                fulfilledTasks: room.fulfilledTasks))
    }
}
