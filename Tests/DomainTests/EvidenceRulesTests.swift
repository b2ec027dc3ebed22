import Domain
import Foundation
import Testing

@Suite("Domain: evidence requests, the task machine and its rules")
struct EvidenceRulesTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    @Test func theTaskMachineAllowsExactlyTheMovesOfDesign41() throws {
        let table: [EvidenceTaskStatus: [EvidenceTaskAction: EvidenceTaskStatus]] = [
            .pending: [.acknowledge: .acknowledged, .reject: .rejected, .recordNoFootage: .noFootage, .cancel: .cancelled],
            .acknowledged: [.reject: .rejected, .recordNoFootage: .noFootage, .export: .exported, .cancel: .cancelled],
            .exported: [.collect: .collected],
            .collected: [:], .rejected: [:], .noFootage: [:], .cancelled: [:],
        ]
        for status in EvidenceTaskStatus.allCases {
            for action in EvidenceTaskAction.allCases {
                if let expected = table[status]?[action] {
                    #expect(try EvidenceTaskMachine.next(from: status, by: action, allowedToCaller: []) == expected, "\(status) \(action)")
                } else {
                    #expect(throws: StateConflict.self, "\(status) \(action)") {
                        try EvidenceTaskMachine.next(from: status, by: action, allowedToCaller: [.collect])
                    }
                }
            }
        }
    }

    @Test func aRequestsStatusFollowsItsTasks() {
        let cases: [([EvidenceTaskStatus], EvidenceRequestStatus)] = [
            ([], .noFootage), ([.pending, .exported], .open), ([.acknowledged], .open), ([.exported, .rejected], .completed),
            ([.collected, .cancelled], .completed), ([.cancelled, .cancelled], .cancelled), ([.rejected, .noFootage], .noFootage),
            ([.cancelled, .noFootage], .noFootage),
        ]
        for (tasks, expected) in cases { #expect(EvidenceTaskMachine.requestStatus(tasks) == expected, "\(tasks)") }
    }

    @Test func embeddedOfficersActForTheHolderOnlyInRoomsWhereTheirForceIsEmbedded() {
        let force = UUID()
        let borough = UUID()
        let other = UUID()
        func caller(_ role: Role, _ organisation: UUID) -> Principal {
            Principal(keyID: UUID(), keyPrefix: "p", organisationID: organisation, organisationKind: .police, role: role, covertAccess: false)
        }
        let cases: [(String, Principal, Bool, Set<EvidenceSide>)] = [
            ("holder operator", caller(.operator, borough), false, [.holder]),
            ("holder partner admin", caller(.partnerAdmin, borough), false, [.holder]),
            ("holder analyst", caller(.analyst, borough), false, []),
            ("requester", caller(.requester, force), false, [.requester]),
            ("embedded officer, embedded", caller(.embeddedOfficer, force), true, [.requester, .holder]),
            ("embedded officer, not embedded", caller(.embeddedOfficer, force), false, [.requester]),
            ("another force's embedded officer", caller(.embeddedOfficer, other), true, []),
            ("requester's operator", caller(.operator, force), true, []),
        ]
        for (what, principal, embedded, sides) in cases {
            let parties = EvidenceRules.TaskParties(
                requesterOrganisationID: force, holderOrganisationID: borough, covert: false, callerEmbeddedInRoom: embedded
            )
            #expect(EvidenceRules.sides(of: parties, for: principal) == sides, "\(what)")
        }
    }

    @Test func aPlanGroupsByHolderAndLeavesOutWhatIsOverwrittenOrOutOfService() {
        let room = UUID()
        let roomOperator = UUID()
        let owner = UUID()
        func candidate(room: UUID?, overwriteIn hours: Double, inService: Bool = true) -> EvidenceCandidate {
            EvidenceCandidate(
                cameraID: UUID(), ownerOrganisationID: owner, controlRoomID: room, roomOperatorID: room == nil ? nil : roomOperator,
                overwriteAt: now.addingTimeInterval(hours * 3600), inService: inService, covert: false
            )
        }
        let candidates = [
            candidate(room: room, overwriteIn: 600), candidate(room: room, overwriteIn: 0.5), candidate(room: nil, overwriteIn: 600),
            candidate(room: room, overwriteIn: -1), candidate(room: room, overwriteIn: 600, inService: false),
        ]
        let plan = EvidencePlan.make(candidates: candidates, priority: .urgent, now: now, sla: .standard)
        #expect(plan.tasks.count == 2)
        let roomTask = plan.tasks.first { $0.holder.controlRoomID == room }
        #expect(roomTask?.cameras.count == 2)
        #expect(roomTask?.holder.organisationID == roomOperator)
        // Overwritten in half an hour, before the hour an urgent task has to be acknowledged.
        #expect(roomTask?.atRisk == true)
        #expect(roomTask?.ackDueAt == now.addingTimeInterval(3600))
        #expect(roomTask?.exportDueAt == now.addingTimeInterval(24 * 3600))
        #expect(plan.tasks.first { $0.holder.controlRoomID == nil }?.holder.organisationID == owner)
        #expect(Set(plan.exclusions.map(\.reason)) == [.alreadyOverwritten, .notInService])
        #expect(EvidencePlan.make(candidates: [], priority: .standard, now: now, sla: .standard).emptyReason == "no_cameras_found")
    }

    @Test func alertsFallDueOnceEach() {
        let overwrite = now.addingTimeInterval(12 * 3600)
        let ack = now.addingTimeInterval(3600)
        let export = now.addingTimeInterval(24 * 3600)
        func due(_ status: EvidenceTaskStatus, at hours: Double, raised: Set<EvidenceAlert> = []) -> [EvidenceAlert] {
            EvidenceAlert.due(
                status: status, overwriteAt: overwrite, ackDueAt: ack, exportDueAt: export, raised: raised,
                now: now.addingTimeInterval(hours * 3600)
            ).raise
        }
        #expect(due(.pending, at: -13) == [])
        #expect(due(.pending, at: 0) == [.atRisk24h])
        #expect(due(.pending, at: 0, raised: [.atRisk24h]) == [])
        #expect(due(.pending, at: 10.5, raised: [.atRisk24h]) == [.atRisk2h, .ackBreached])
        #expect(due(.pending, at: 10.5) == [.atRisk2h, .ackBreached])
        #expect(due(.acknowledged, at: 10.5) == [])
        #expect(due(.acknowledged, at: 25) == [.exportBreached])
        #expect(due(.exported, at: 25) == [])
    }

    @Test func rangeHeadersAreReadAsRFC9110Says() {
        let cases: [(String?, ByteRangeRequest)] = [
            (nil, .whole), ("bytes=0-99", .partial(0..<100)), ("bytes=900-", .partial(900..<1000)), ("bytes=-100", .partial(900..<1000)),
            ("bytes=990-2000", .partial(990..<1000)), ("bytes=1000-", .unsatisfiable), ("bytes=0-1,5-6", .whole), ("items=0-1", .whole),
            ("bytes=5-1", .whole), ("bytes=x-1", .whole), ("bytes=-0", .unsatisfiable),
        ]
        for (header, expected) in cases { #expect(ByteRangeRequest(header: header, size: 1000) == expected, "\(header ?? "nil")") }
    }

    @Test func movesCarryWhatTheyNeed() throws {
        #expect(throws: ValidationError.self) { try EvidenceTaskMove(action: .reject).validate(now: now) }
        #expect(throws: ValidationError.self) { try EvidenceTaskMove(action: .recordNoFootage, reason: "duplicate").validate(now: now) }
        #expect(throws: ValidationError.self) { try EvidenceTaskMove(action: .acknowledge, holdUntil: now.addingTimeInterval(-1)).validate(now: now) }
        #expect(throws: ValidationError.self) { try EvidenceTaskMove(action: .export, holdUntil: now).validate(now: now) }
        #expect(try EvidenceTaskMove(action: .acknowledge).validate(now: now) == now.addingTimeInterval(30 * 86_400))
        #expect(try EvidenceTaskMove(action: .recordNoFootage, reason: "camera_faulty").validate(now: now) == nil)
    }
}
