import Domain
import Foundation
import Testing

/// Who hears of what, and what they are told: every event type Domain builds, without a database.
@Suite("Domain: events, their audiences and payloads")
struct EventTests {
    static let owner = UUID(uuidString: "00000000-0000-0000-0000-00000000000a")!
    static let roomOperator = UUID(uuidString: "00000000-0000-0000-0000-00000000000b")!
    static let borough = UUID(uuidString: "00000000-0000-0000-0000-00000000000c")!
    static let mps = UUID(uuidString: "00000000-0000-0000-0000-00000000000d")!
    static let btp = UUID(uuidString: "00000000-0000-0000-0000-00000000000e")!
    static let police = [mps, btp]
    static let subjectID = UUID(uuidString: "0b6f5a8e-2f0c-4b8e-9d7a-3c1e5f2a9b10")!
    static let other = UUID(uuidString: "1b6f5a8e-2f0c-4b8e-9d7a-3c1e5f2a9b10")!
    static let day = Date(timeIntervalSince1970: 1_790_000_000)

    /// One row of the table: the event built, and what it must be.
    struct Case: CustomTestStringConvertible, Sendable {
        let event: DomainEvent
        let type: EventType
        let subject: String
        let sequence: Int
        let audience: Set<UUID>
        let covert: Bool
        /// The payload as JSON text, numbers and booleans as such.
        let payload: String

        var testDescription: String { type.rawValue + (covert ? " (covert)" : "") }
    }

    static func camera(status: CameraStatus = .operational, covert: Bool = false, version: Int = 3) -> Camera {
        Camera(
            id: subjectID, ownerOrganisationID: owner,
            draft: CameraDraft(kind: .fixed, location: Location(lat: 51.5, lon: -0.13), status: status, covert: covert), boroughMismatch: false,
            effectiveRetentionDays: 31, createdAt: day, updatedAt: day, version: version
        )
    }

    static let brief = EvidenceBrief(
        EvidenceRequestDraft(
            crimeReference: "CRIS 1/26", offence: "robbery", priority: .urgent, authorisedBy: "DI Khan", location: Location(lat: 51.5, lon: -0.13),
            windowFrom: day.addingTimeInterval(-3600), windowTo: day, contact: RequesterContact(name: "DC Patel", phone: "020 7230 1212")
        ))

    static func task(
        _ status: EvidenceTaskStatus, atRisk: Bool = false, covert: Bool = false, holdUntil: Date? = nil, escalationLevel: Int = 0
    ) -> EvidenceTask {
        EvidenceTask(
            id: subjectID, requestID: other, reference: "SL-2026-000042", requesterOrganisationID: mps,
            holder: EvidenceHolder(organisationID: roomOperator, controlRoomID: nil), status: status, priority: .urgent, ackDueAt: day,
            exportDueAt: day, overwriteAt: day, atRisk: atRisk, holdUntil: holdUntil, escalationLevel: escalationLevel, acknowledgedAt: nil,
            outcomeReason: nil, outcomeNotes: nil, covert: covert, cameras: [], brief: brief, createdAt: day, updatedAt: day, version: 4
        )
    }

    static func proposal(_ status: ProposalStatus) -> Proposal {
        Proposal(
            id: subjectID, leadOrganisationID: owner,
            draft: ProposalDraft(title: "Shared room", controlRoomIDs: [other], host: .existing(other), proposedAnnualCostPence: 1),
            status: status, participants: [owner, roomOperator], endorsements: [], submissionOverrideReason: nil, decision: nil, milestones: [],
            implementedAt: nil, implementedRoomID: nil, createdAt: day, updatedAt: day, version: 5
        )
    }

    static let id = subjectID.uuidString.lowercased()
    static let otherID = other.uuidString.lowercased()

    static let cases: [Case] = {
        var cases: [Case] = [
            Case(
                event: .camera(
                    .cameraCreated, id: subjectID, version: 1, status: .operational, covert: false, owner: owner, roomOperator: roomOperator,
                    boroughAuthority: borough, policeForces: police
                ),
                type: .cameraCreated, subject: "camera/" + id, sequence: 1, audience: [owner, roomOperator, borough, mps, btp], covert: false,
                payload: #"{"id":"\#(id)","status":"operational","version":1}"#
            ),
            Case(
                event: .camera(
                    .cameraCreated, id: subjectID, version: 1, status: .operational, covert: true, owner: owner, roomOperator: roomOperator,
                    boroughAuthority: borough, policeForces: police
                ),
                type: .cameraCreated, subject: "camera/" + id, sequence: 1, audience: [owner, mps, btp], covert: true,
                payload: #"{"id":"\#(id)","status":"operational","version":1}"#
            ),
            Case(
                event: .cameraChanged(
                    camera(status: .faulty), previousStatus: .operational, roomOperator: nil, boroughAuthority: borough, policeForces: police),
                type: .cameraStatusChanged, subject: "camera/" + id, sequence: 3, audience: [owner, borough, mps, btp], covert: false,
                payload: #"{"id":"\#(id)","previous_status":"operational","status":"faulty","version":3}"#
            ),
            Case(
                event: .cameraChanged(
                    camera(), previousStatus: .operational, roomOperator: roomOperator, boroughAuthority: nil, policeForces: police),
                type: .cameraUpdated, subject: "camera/" + id, sequence: 3, audience: [owner, roomOperator, mps, btp], covert: false,
                payload: #"{"id":"\#(id)","status":"operational","version":3}"#
            ),
        ]
        let room = ControlRoom(
            id: subjectID, operatorOrganisationID: roomOperator, draft: ControlRoomDraft(name: "Room", boroughsServed: ["E09000033"]),
            createdAt: day, updatedAt: day, version: 2
        )
        for type in [EventType.controlRoomCreated, .controlRoomUpdated] {
            cases.append(
                Case(
                    event: .controlRoom(type, room, boroughAuthorities: [borough], policeForces: police), type: type,
                    subject: "control_room/" + id, sequence: 2, audience: [roomOperator, borough, mps, btp], covert: false,
                    payload: #"{"id":"\#(id)","version":2}"#
                )
            )
        }
        let arrangement = EmbeddingArrangement(
            id: subjectID, controlRoomID: other, policeOrganisationID: mps,
            draft: EmbeddingDraft(model: .embedded, startsOn: Day(year: 2026, month: 1, day: 1)!), createdAt: day, updatedAt: day, version: 5
        )
        var ended = arrangement
        ended.draft.endsOn = Day(year: 2026, month: 12, day: 31)
        for (type, value, endsOn) in [
            (EventType.embeddingArrangementCreated, arrangement, ""), (.embeddingArrangementUpdated, arrangement, ""),
            (.embeddingArrangementEnded, ended, #""ends_on":"2026-12-31","#),
        ] {
            cases.append(
                Case(
                    event: .embedding(type, value, roomOperator: roomOperator, boroughAuthorities: [borough]), type: type,
                    subject: "embedding_arrangement/" + id, sequence: 5, audience: [roomOperator, mps, borough], covert: false,
                    payload: #"{"control_room_id":"\#(otherID)",\#(endsOn)"id":"\#(id)","model":"embedded","version":5}"#
                )
            )
        }
        for (type, status) in [
            (EventType.evidenceRequestCreated, EvidenceRequestStatus.open), (.evidenceRequestCancelled, .cancelled),
            (.evidenceRequestCompleted, .completed),
        ] {
            cases.append(
                Case(
                    event: .evidenceRequest(
                        type, id: subjectID, version: 2, reference: "SL-2026-000042", status: status, requester: mps,
                        visibleHolders: [roomOperator, owner]
                    ),
                    type: type, subject: "evidence_request/" + id, sequence: 2, audience: [mps, roomOperator, owner], covert: false,
                    payload: #"{"id":"\#(id)","reference":"SL-2026-000042","status":"\#(status.rawValue)","version":2}"#
                )
            )
        }
        for status in EvidenceTaskStatus.allCases {
            let type = EventType.evidenceTask(becoming: status)
            cases.append(
                Case(
                    event: .evidenceTask(type, task(status)), type: type, subject: "evidence_task/" + id, sequence: 4, audience: [mps, roomOperator],
                    covert: false,
                    payload:
                        #"{"at_risk":false,"escalation_level":0,"id":"\#(id)","reference":"SL-2026-000042","request_id":"\#(otherID)","status":"\#(status.rawValue)","version":4}"#
                )
            )
        }
        // A hold extended, warned of and ended: the hold's end is in the payload (whole seconds, UTC).
        let hold = task(.acknowledged, holdUntil: day)
        let holdFields =
            #""at_risk":false,"escalation_level":0,"hold_until":"2026-09-21T14:13:20Z","id":"\#(id)","reference":"SL-2026-000042","request_id":"\#(otherID)","status":"acknowledged","version":4"#
        cases.append(
            Case(
                event: .evidenceTask(.evidenceTask(.extendHold, becoming: .acknowledged), hold), type: .evidenceTaskHoldExtended,
                subject: "evidence_task/" + id, sequence: 4, audience: [mps, roomOperator], covert: false, payload: "{" + holdFields + "}"
            )
        )
        for (alert, field) in [
            (EvidenceAlert.holdExpiring, #""alert":"hold_ends_within_48h""#), (EvidenceAlert.holdExpired, #""alert":"hold_ended""#),
        ] {
            cases.append(
                Case(
                    event: .evidenceTask(alert.eventType, hold, alert: alert), type: alert.eventType, subject: "evidence_task/" + id, sequence: 4,
                    audience: [mps, roomOperator], covert: false, payload: "{" + field + "," + holdFields + "}"
                )
            )
        }
        for (alert, field) in [
            (EvidenceAlert.atRisk24h, #""alert":"overwrite_within_24h""#), (.atRisk2h, #""alert":"overwrite_within_2h""#),
        ] {
            cases.append(
                Case(
                    event: .evidenceTask(alert.eventType, task(.pending, atRisk: true, covert: true), alert: alert), type: alert.eventType,
                    subject: "evidence_task/" + id, sequence: 4, audience: [mps, roomOperator], covert: true,
                    payload:
                        #"{\#(field),"at_risk":true,"escalation_level":0,"id":"\#(id)","reference":"SL-2026-000042","request_id":"\#(otherID)","status":"pending","version":4}"#
                )
            )
        }
        // A breach and its escalation: level 1 tells the holder's operators and the requester's requesters; from
        // level 2 both organisations' partner admins too.
        for (level, deadline, status, holder, requester) in [
            (1, "acknowledge", EvidenceTaskStatus.pending, #"["operator"]"#, #"["requester"]"#),
            (2, "export", .acknowledged, #"["operator","partner_admin"]"#, #"["requester","partner_admin"]"#),
        ] {
            let escalation = EvidenceEscalation(deadline: .init(rawValue: deadline)!, level: level)
            cases.append(
                Case(
                    event: .evidenceTask(.evidenceTaskSLABreached, task(status, escalationLevel: level), escalation: escalation),
                    type: .evidenceTaskSLABreached, subject: "evidence_task/" + id, sequence: 4, audience: [mps, roomOperator], covert: false,
                    payload:
                        #"{"at_risk":false,"deadline":"\#(deadline)","escalate_to_holder":\#(holder),"escalate_to_requester":\#(requester),"escalation_level":\#(level),"id":"\#(id)","reference":"SL-2026-000042","request_id":"\#(otherID)","status":"\#(status.rawValue)","version":4}"#
                )
            )
        }
        // A proposal's events: its lead, its participants, MOPAC and the forces with arrangements in its rooms,
        // each once (the lead also runs a room here); a decision names its outcome and reference.
        let mopac = UUID(uuidString: "00000000-0000-0000-0000-00000000000f")!
        for status in ProposalStatus.allCases {
            var proposal = proposal(status)
            let type = EventType.proposal(becoming: status)
            var fields = ""
            if status == .approved || status == .rejected {
                proposal.decision = ProposalDecision(
                    outcome: status == .approved ? .approved : .rejected, reference: "PCD 167", decidedOn: Day(year: 2026, month: 11, day: 2)!,
                    text: "Agreed.", decidedAt: day)
                fields = #""decision_reference":"PCD 167","#
            }
            let outcome = fields.isEmpty ? "" : #""outcome":"\#(status.rawValue)","#
            cases.append(
                Case(
                    event: .proposal(type, proposal, mopac: [mopac], policeWithArrangements: [mps]), type: type, subject: "proposal/" + id,
                    sequence: 5, audience: [owner, roomOperator, mopac, mps], covert: false,
                    payload: #"{\#(fields)"id":"\#(id)",\#(outcome)"status":"\#(status.rawValue)","title":"Shared room","version":5}"#
                )
            )
        }
        for (type, extra, text) in [
            (
                EventType.proposalEndorsementRecorded, ["organisation_id": JSONValue.id(roomOperator), "position": "object"],
                #""organisation_id":"\#(roomOperator.uuidString.lowercased())","position":"object","#
            ),
            (.proposalMilestoneUpdated, ["milestone_id": .id(other), "overdue": true], #""milestone_id":"\#(otherID)","overdue":true,"#),
        ] {
            cases.append(
                Case(
                    event: .proposal(type, proposal(.consultation), mopac: [mopac], policeWithArrangements: [], fields: extra), type: type,
                    subject: "proposal/" + id, sequence: 5, audience: [owner, roomOperator, mopac], covert: false,
                    payload: #"{"id":"\#(id)",\#(text)"status":"consultation","title":"Shared room","version":5}"#
                )
            )
        }
        cases.append(
            Case(
                event: .webhookEndpointDisabled(
                    id: subjectID, version: 7, organisation: owner, reason: .failing, url: "https://partner.example/hooks"),
                type: .webhookEndpointDisabled, subject: "webhook_endpoint/" + id, sequence: 7, audience: [owner], covert: false,
                payload: #"{"id":"\#(id)","reason":"failing","url":"https://partner.example/hooks","version":7}"#
            )
        )
        cases.append(
            Case(
                event: .reportReady(id: subjectID, kind: .holder, date: Day("2027-03-28")!, organisation: owner, audience: [owner]),
                type: .reportReady, subject: "report/" + id, sequence: 1, audience: [owner], covert: false,
                payload:
                    #"{"id":"\#(id)","kind":"holder","organisation_id":"\#(owner.uuidString.lowercased())","report_date":"2027-03-28","version":1}"#
            )
        )
        cases.append(
            Case(
                event: .reportReady(id: subjectID, kind: .london, date: Day("2027-10-31")!, organisation: nil, audience: [mopac]),
                type: .reportReady, subject: "report/" + id, sequence: 1, audience: [mopac], covert: false,
                payload: #"{"id":"\#(id)","kind":"london","report_date":"2027-10-31","version":1}"#
            )
        )
        return cases
    }()

    @Test(arguments: cases)
    func eachEventHasItsTypeSubjectAudienceAndTypedPayload(_ row: Case) {
        #expect(row.event.type == row.type)
        #expect(row.event.subject == row.subject)
        #expect(row.event.sequence == row.sequence)
        #expect(Set(row.event.audience) == row.audience)
        #expect(row.event.audience.count == row.audience.count, "each organisation once")
        #expect(row.event.covert == row.covert)
        #expect(row.event.payload.jsonText == row.payload)
    }

    @Test func everyTypeThatIsWrittenTodayHasABuilderInTheTable() {
        // The test event is built for one endpoint (below).
        let reserved: Set<EventType> = [.webhookTest]
        let built = Set(Self.cases.map(\.type))
        #expect(built == Set(EventType.allCases).subtracting(reserved))
    }

    @Test func theTestEventIsForOneEndpointAndNoOrganisation() {
        let event = DomainEvent.webhookTest(endpointID: Self.subjectID)
        #expect(event.type == .webhookTest && event.audience.isEmpty && !event.covert)
        #expect(event.subject.hasPrefix("webhook_test/") && event.subject != "webhook_test/" + Self.id)
        #expect(event.payload["id"] == .id(Self.subjectID) && event.payload["message"] == "A test event from Sightline.")
        #expect(!EventType.subscribable.contains(EventType.webhookTest.rawValue))
    }

    @Test func auditDetailKeepsNumbersAndBooleans() {
        let event = AuditActor.scheduler.event("x", .success, detail: ["tasks": 3, "covert": true, "reference": "SL-1", "none": .null])
        #expect(event.detailJSON == #"{"covert":true,"none":null,"reference":"SL-1","tasks":3}"#)
    }
}

@Suite("Domain: the clock")
struct ClockTests {
    // The last three are times whose 1970-based rounding (the form this used to take) differs from the database's.
    @Test(arguments: [
        1_800_000_000.123456789, 946_684_800.000_000_4, 2_000_000_000.5, 1_807_176_400.861338, 1_773_137_783.382517, 1_801_487_146.637884,
    ])
    func wholeMicrosecondsIsStableAndInTheFormTheDatabaseReturns(seconds: Double) {
        let time = Date(timeIntervalSince1970: seconds).wholeMicroseconds
        #expect(time.wholeMicroseconds == time)
        // What LibPQ decodes a binary timestamp to: 2000-01-01 plus whole microseconds.
        let stored = ((seconds - 946_684_800) * 1_000_000).rounded()
        #expect(time == Date(timeIntervalSince1970: 946_684_800 + stored / 1_000_000))
    }

    @Test func aManualClockMovesOnlyWhenMoved() {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
        #expect(clock.now() == clock.now())
        clock.advance(by: .seconds(600))
        #expect(clock.now() == Date(timeIntervalSince1970: 1_800_000_600))
        clock.set(Date(timeIntervalSince1970: 10))
        #expect(clock.now() == Date(timeIntervalSince1970: 10))
    }
}
