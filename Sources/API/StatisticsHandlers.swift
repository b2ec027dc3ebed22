import Domain
import Foundation
import OpenAPIRuntime
import Storage

/// `/v1/statistics`.
extension SightlineAPI {
    func getCameraStatistics(_ input: Operations.GetCameraStatistics.Input) async throws -> Operations.GetCameraStatistics.Output {
        let caller = try Caller.required()
        let dates = try StatisticsDates.parse(input.query.asOf)
        guard let grouping = CameraGrouping(rawValue: input.query.groupBy.rawValue) else {
            throw ValidationError([.init(parameter: "group_by", detail: "must be kind, borough or owner_kind")])
        }
        // The disclosable figure unless covert cameras are asked for, by a key that may know of them (any other
        // key is answered as if it had not asked).
        let visibility = input.query.includeCovert == true ? CovertVisibility(for: caller) : .none
        let (groups, covertCounted) = try await cameras.statistics(asOf: dates, groupBy: grouping, visibility: visibility)
        if covertCounted > 0 {
            try await auditCovertRead(
                cameras: [], caller: caller, via: "statistics",
                detail: ["covert_counted": .integer(covertCounted), "as_of": .array(dates.map { .string($0.description) })])
        }
        let totals = dates.indices.map { index in groups.reduce(0) { $0 + $1.counts[index] } }
        return .ok(
            .init(
                body: .json(
                    .init(
                        groupBy: grouping.rawValue, asOf: dates.map(\.description),
                        groups: groups.map { .init(key: $0.key, counts: $0.counts) }, totals: totals
                    ))))
    }
}
