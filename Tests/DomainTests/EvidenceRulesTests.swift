import Domain
import Foundation
import Testing

@Suite("Domain: evidence requests, the task machine and its rules")
struct EvidenceRulesTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    @Test func theTaskMachineAllowsExactlyTheMovesOfDesign41() throws {
        let table: [EvidenceTaskStatus: [EvidenceTaskAction: EvidenceTaskStatus]] = [
            .pending: [.acknowledge: .acknowledged, .reject: .rejected, .recordNoFootage: .noFootage, .cancel: .cancelled],
            .acknowledged: [.reject: .rejected, .recordNoFootage: .noFootage, .export: .exported, .cancel: .cancelled, .extendHold: .acknowledged],
            .exported: [.collect: .collected, .extendHold: .exported],
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
        // Export needs an item; the conflict names only what the caller may do.
        #expect(EvidenceTaskMachine.actions(from: .acknowledged, hasItems: false) == [.reject, .recordNoFootage, .cancel, .extendHold])
        do {
            _ = try EvidenceTaskMachine.next(from: .acknowledged, by: .export, hasItems: false, allowedToCaller: [.reject, .recordNoFootage])
            Issue.record("export with no item was allowed")
        } catch {
            #expect(
                error.allowedActions == ["reject", "record_no_footage"] && error.reason.hasPrefix("A task with no item registered cannot export"))
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
                overwriteAt: now.addingTimeInterval(hours * 3600), inService: inService, covert: false,
                facts: TaskCameraFacts(
                    externalRef: nil, kind: .fixed, location: Location(lat: 51.5, lon: -0.13), headingDegrees: nil, fieldOfViewDegrees: nil)
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
        let hold = now.addingTimeInterval(100 * 3600)
        func due(
            _ status: EvidenceTaskStatus, at hours: Double, raised: Set<EvidenceAlert> = [], level: Int = 0, released: Bool = false
        ) -> EvidenceTaskDue {
            EvidenceTaskDue.at(
                now.addingTimeInterval(hours * 3600), status: status, overwriteAt: overwrite, ackDueAt: ack, exportDueAt: export,
                holdUntil: status == .pending ? nil : hold, holdReleased: released, raised: raised, escalationLevel: level
            )
        }
        #expect(due(.pending, at: -13).raise == [])
        #expect(due(.pending, at: 0).raise == [.atRisk24h])
        #expect(due(.pending, at: 0, raised: [.atRisk24h]).raise == [])
        // Both at-risk alerts due at once: only the later is raised, and both are marked.
        #expect(due(.pending, at: 10.5).raise == [.atRisk2h] && due(.pending, at: 10.5).mark == [.atRisk2h, .atRisk24h])
        #expect(due(.acknowledged, at: 10.5).raise == [])
        // The hold: warned of 48 hours before it ends, then its end; found ended, only the end.
        #expect(due(.acknowledged, at: 51.9, level: 2).raise == [])
        #expect(due(.exported, at: 52).raise == [.holdExpiring])
        #expect(due(.exported, at: 100, raised: [.holdExpiring]).raise == [.holdExpired])
        #expect(due(.exported, at: 101).raise == [.holdExpired] && due(.exported, at: 101).mark == [.holdExpired, .holdExpiring])
        #expect(due(.collected, at: 101).raise == [] && due(.exported, at: 101, released: true).raise == [])
    }

    @Test func aBreachEscalatesEveryDayFromItsDeadline() {
        let ack = now.addingTimeInterval(3600)
        let export = now.addingTimeInterval(24 * 3600)
        func level(_ status: EvidenceTaskStatus, at hours: Double) -> EvidenceEscalation? {
            EvidenceEscalation.current(status: status, ackDueAt: ack, exportDueAt: export, now: now.addingTimeInterval(hours * 3600))
        }
        #expect(level(.pending, at: 1) == nil)
        #expect(level(.pending, at: 1.01) == EvidenceEscalation(deadline: .acknowledge, level: 1))
        #expect(level(.pending, at: 25) == EvidenceEscalation(deadline: .acknowledge, level: 2))
        #expect(level(.pending, at: 49.5) == EvidenceEscalation(deadline: .acknowledge, level: 3))
        // Acknowledged, the export deadline is the one that matters; settled, none does.
        #expect(level(.acknowledged, at: 23) == nil)
        #expect(level(.acknowledged, at: 24.5) == EvidenceEscalation(deadline: .export, level: 1))
        #expect(level(.exported, at: 100) == nil && level(.rejected, at: 100) == nil)
        // Each level is raised once: a task already at the level due is owed nothing.
        let owed = EvidenceTaskDue.at(
            now.addingTimeInterval(25 * 3600), status: .pending, overwriteAt: now.addingTimeInterval(900 * 3600), ackDueAt: ack,
            exportDueAt: export, holdUntil: nil, holdReleased: false, raised: [], escalationLevel: 2
        )
        #expect(owed.escalation == nil && owed.raise.isEmpty)
        #expect(EvidenceEscalation(deadline: .export, level: 2).escalateTo.holder == [.operator, .partnerAdmin])
    }

    @Test func whereTheIncidentLiesFromACamera() {
        let camera = Location(lat: 51.50095, lon: -0.12655)
        // About 111 m due north, and 111 m due east (scaled by the latitude's cosine).
        let north = Location(lat: 51.50195, lon: -0.12655)
        let east = Location(lat: 51.50095, lon: -0.12655 + 0.001 / cos(51.50095 * .pi / 180))
        let facing = CameraSightline(from: camera, kind: .fixed, heading: 10, fieldOfView: 60, to: north)
        #expect(facing.distanceMetres == 111 && facing.bearingDegrees == 0 && facing.incidentInView == true)
        let away = CameraSightline(from: camera, kind: .fixed, heading: 180, fieldOfView: 90, to: north)
        #expect(away.incidentInView == false)
        let sideways = CameraSightline(from: camera, kind: .fixed, heading: 350, fieldOfView: 30, to: east)
        #expect(sideways.distanceMetres == 111 && abs(sideways.bearingDegrees - 90) < 0.1 && sideways.incidentInView == false)
        // Across north: heading 350 with 40 degrees of view takes in a bearing of 5.
        let across = CameraSightline(from: camera, kind: .fixed, heading: 350, fieldOfView: 40, to: Location(lat: 51.50195, lon: -0.12645))
        #expect(across.incidentInView == true)
        #expect(CameraSightline(from: camera, kind: .ptz, heading: 0, fieldOfView: 60, to: north).incidentInView == nil)
        #expect(CameraSightline(from: camera, kind: .fixed, heading: nil, fieldOfView: 60, to: north).incidentInView == nil)
    }

    @Test func aContactCanBeReached() {
        #expect(RequesterContact(name: "DC Patel", email: "a.patel@met.police.uk").problems(at: "/c").isEmpty)
        #expect(RequesterContact(name: "DC Patel", phone: "+44 (0)20 7230-1212").problems(at: "/c").isEmpty)
        #expect(RequesterContact(name: "DC Patel").problems(at: "/c").map(\.pointer) == ["/c"])
        #expect(RequesterContact(name: "DC Patel", email: "patel at met").problems(at: "/c").map(\.pointer) == ["/c/email"])
        #expect(RequesterContact(name: "DC Patel", email: "a@b", phone: "12").problems(at: "/c").map(\.pointer) == ["/c/email", "/c/phone"])
        #expect(RequesterContact(name: " ", email: "a@b.uk").problems(at: "/c").map(\.pointer) == ["/c/name"])
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
        let task = EventTests.task(.acknowledged, holdUntil: now.addingTimeInterval(10 * 86_400))
        // The brief's window ended at `EventTests.day`; holds reach at most 90 days after it.
        let latest = EventTests.day.addingTimeInterval(90 * 86_400)
        let policy = HoldPolicy()
        func check(_ move: EvidenceTaskMove) throws -> Date? { try move.validate(now: now, task: task, policy: policy) }
        #expect(throws: ValidationError.self) { try check(EvidenceTaskMove(action: .reject)) }
        #expect(throws: ValidationError.self) { try check(EvidenceTaskMove(action: .recordNoFootage, reason: "duplicate")) }
        #expect(throws: ValidationError.self) { try check(EvidenceTaskMove(action: .acknowledge, holdUntil: now.addingTimeInterval(-1))) }
        #expect(throws: ValidationError.self) { try check(EvidenceTaskMove(action: .acknowledge, holdUntil: latest.addingTimeInterval(1))) }
        #expect(throws: ValidationError.self) { try check(EvidenceTaskMove(action: .export, holdUntil: now)) }
        #expect(try check(EvidenceTaskMove(action: .acknowledge)) == now.addingTimeInterval(30 * 86_400))
        #expect(try check(EvidenceTaskMove(action: .recordNoFootage, reason: "camera_faulty")) == nil)
        // An extension: required, later than the hold in place, at most 90 days after the window.
        #expect(throws: ValidationError.self) { try check(EvidenceTaskMove(action: .extendHold)) }
        #expect(throws: ValidationError.self) { try check(EvidenceTaskMove(action: .extendHold, holdUntil: now.addingTimeInterval(86_400))) }
        #expect(throws: ValidationError.self) { try check(EvidenceTaskMove(action: .extendHold, holdUntil: latest.addingTimeInterval(1))) }
        #expect(try check(EvidenceTaskMove(action: .extendHold, holdUntil: latest)) == latest)
    }
}
