import API
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LibPQ
import Storage
import TestSupport
import Testing

/// A proposal as the API returns it.
struct ProposalBody: Decodable {
    struct Endorsement: Decodable {
        let organisation_id: String
        let position: String
        let comment: String?
        let superseded: Bool
    }
    struct Milestone: Decodable {
        let id: String
        let title: String
        let due_on: String
        let completed_on: String?
        let overdue: Bool
        let version: Int
    }
    struct Decision: Decodable {
        let outcome: String
        let reference: String
        let decided_on: String
    }
    let id: String
    let lead_org_id: String
    let status: String
    let control_room_ids: [String]
    let participants: [String]
    let endorsements: [Endorsement]
    let positions_missing: [String]
    let submission_override_reason: String?
    let decision: Decision?
    let milestones: [Milestone]
    let implemented_room_id: String?
    let allowed_actions: [String]
    let version: Int
}

struct AppraisalBody: Decodable {
    struct Year: Decodable {
        let year: Int
        let present_value_pence: Int
    }
    struct Sensitivity: Decodable {
        let saving_80_percent_pence: Int
        let saving_120_percent_pence: Int
    }
    let baseline_annual_cost_pence: Int
    let annual_saving_pence: Int
    let one_off_cost_with_optimism_bias_pence: Int
    let payback_years: Double?
    let net_present_value_pence: Int
    let sensitivity: Sensitivity
    let years: [Year]
    let cameras: Int
    let positions_before: Int
    let positions_after: Int?
    let cameras_per_position_before: Double?
    let boroughs_covered: [String]
    let arrangements_affected: [[String: AnyCodableValue]]
    let overridden: Bool
}

/// Any JSON value, for fields a test only counts.
struct AnyCodableValue: Decodable {
    init(from decoder: any Decoder) throws {}
}

/// Westminster's and Camden's rooms with their costs, cameras (one covert, MPS's, monitored by Camden's room), an
/// MPS arrangement in Camden's room, and keys for the roles the proposal workflow needs beyond `TestKeys`.
struct ProposalWorld {
    let westminsterRoom: UUID
    let camdenRoom: UUID
    /// A room of Islington's, for a partner admin who does not run it.
    let islingtonRoom: UUID
    let camdenCameras: [UUID]
    let covertCamera: UUID
    let mopac: UUID
    let islington: UUID
    let mopacPlanner: HTTPFields
    let camdenAdmin: HTTPFields

    static func make(_ pool: PostgresPool) async throws -> ProposalWorld {
        let (mopac, islington): (UUID, UUID) = try await pool.withConnection { connection in
            (
                try await connection.query("SELECT id FROM organisations WHERE kind = 'mopac'")[0].decode(0),
                try await connection.query("SELECT organisation_id FROM boroughs WHERE gss_code = 'E09000019'")[0].decode(0)
            )
        }
        return try await pool.withConnection { connection in
            func room(_ operatorID: UUID, _ name: String, _ gss: String, cost: Int, positions: Int, fte: Double) async throws -> UUID {
                let id: UUID = try await connection.query(
                    """
                    INSERT INTO control_rooms (operator_org_id, name, annual_cost_pence, operator_positions, staff_fte, costs_reviewed_on,
                                               export_formats)
                    VALUES ($1, $2, $3, $4, $5, current_date, '{mp4}') RETURNING id
                    """,
                    operatorID, name, cost, positions, fte
                )[0].decode(0)
                try await connection.query("INSERT INTO control_room_boroughs (control_room_id, gss_code) VALUES ($1, $2)", id, gss)
                return id
            }
            let westminsterRoom = try await room(TestKeys.westminster, "Westminster CCTV", "E09000033", cost: 120_000_000, positions: 4, fte: 20)
            let camdenRoom = try await room(TestKeys.camden, "Camden CCTV", "E09000007", cost: 95_000_000, positions: 3, fte: 14.5)
            let islingtonRoom = try await room(islington, "Islington CCTV", "E09000019", cost: 80_000_000, positions: 2, fte: 9)
            func camera(_ owner: UUID, _ room: UUID, covert: Bool = false) async throws -> UUID {
                try await connection.query(
                    """
                    INSERT INTO cameras (owner_org_id, control_room_id, kind, location, borough_gss, covert)
                    VALUES ($1, $2, 'fixed', ST_SetSRID(ST_MakePoint($4, $3), 4326)::geography, 'E09000033', $5) RETURNING id
                    """,
                    owner, room, Places.westminster.lat, Places.westminster.lon, covert
                )[0].decode(0)
            }
            for _ in 0..<2 { _ = try await camera(TestKeys.westminster, westminsterRoom) }
            var camdenCameras: [UUID] = []
            for _ in 0..<3 { camdenCameras.append(try await camera(TestKeys.camden, camdenRoom)) }
            let covert = try await camera(TestKeys.mps, camdenRoom, covert: true)
            try await connection.query(
                "INSERT INTO embedding_arrangements (control_room_id, police_org_id, model, staff_count, starts_on) VALUES ($1, $2, 'embedded', 2, '2020-01-01')",
                camdenRoom, TestKeys.mps)
            return ProposalWorld(
                westminsterRoom: westminsterRoom, camdenRoom: camdenRoom, islingtonRoom: islingtonRoom, camdenCameras: camdenCameras,
                covertCamera: covert, mopac: mopac, islington: islington, mopacPlanner: try await ProposalTests.key(pool, mopac, .planner),
                camdenAdmin: try await ProposalTests.key(pool, TestKeys.camden, .partnerAdmin))
        }
    }

    /// A proposal body: Westminster's room hosting Camden's, with the costs of `docs/appraisal/reference.py`'s first case.
    func body(title: String = "Westminster and Camden share a room", rooms: [UUID]? = nil, host: String? = nil, extra: String = "") -> String {
        let ids = (rooms ?? [westminsterRoom, camdenRoom]).map { "\"\($0.text)\"" }.joined(separator: ", ")
        return #"{"title": "\#(title)", "control_room_ids": [\#(ids)], "#
            + #""host": \#(host ?? #"{"control_room_id": "\#(westminsterRoom.text)", "operator_positions": 5}"#), "#
            + #""one_off_costs_pence": {"fit_out": 60000000, "network": 25000000, "migration": 15000000, "staff_transition": 10000000, "other": 5000000}, "#
            + #""proposed_annual_cost_pence": 130000000\#(extra)}"#
    }
}

/// Shared control-room proposals (issue 15): the workflow, the appraisal, implementation and bad input.
@Suite("API: shared control-room proposals")
struct ProposalTests {
    static func events(_ pool: PostgresPool, like pattern: String) async throws -> [(type: String, audience: [UUID], covert: Bool, payload: String)] {
        try await pool.withConnection { connection in
            try await connection.query("SELECT type, audience, covert, payload::text FROM events WHERE type LIKE $1 ORDER BY position", pattern).map {
                (try $0.decode(0), try $0.decode(1), try $0.decode(2), try $0.decode(3))
            }
        }
    }

    @Test func aProposalGoesFromDraftThroughConsultationAndDecisionToImplementedAndMergesTheRooms() async throws {
        try await TestDatabase.withFresh { pool, url in
            let world = try await ProposalWorld.make(pool)
            let clock = ManualClock()
            try await withApp(pool: pool, url: url, clock: clock) { client, keys in
                let planner = world.mopacPlanner
                // An open task held by Camden, in Camden's room, before anything moves.
                let request = try await client.send(.post, "/v1/evidence-requests", keys(.requester, of: TestKeys.mps), incident(now: clock.now()))
                #expect(request.status == .created, "\(request.text)")
                let camdenTask = try #require(try request.decode(RequestBody.self).tasks?.first { $0.holder_org_id == TestKeys.camden.text })

                let created = try await client.send(.post, "/v1/proposals", planner, world.body())
                #expect(created.status == .created, "\(created.text)")
                var proposal = try created.decode(ProposalBody.self)
                #expect(proposal.status == "draft" && proposal.lead_org_id == world.mopac.text)
                #expect(Set(proposal.participants) == [TestKeys.westminster.text, TestKeys.camden.text])
                #expect(proposal.allowed_actions == ["open_consultation", "withdraw"])
                let path = "/v1/proposals/" + proposal.id
                func move(_ action: String, _ headers: HTTPFields, extra: String = "") async throws -> TestResponse {
                    try await client.send(
                        .post, path + "/transitions", headers, #"{"action": "\#(action)"\#(extra)}"#, ifMatch: "\"\(proposal.version)\"")
                }

                // Changed while a draft, by merge patch.
                let patched = try await client.send(.patch, path, planner, #"{"summary": "PCD 167: one room for two boroughs"}"#, ifMatch: "\"1\"")
                #expect(patched.status == .ok, "\(patched.text)")
                proposal = try patched.decode(ProposalBody.self)

                // Consultation: Camden objects, then supports; Westminster abstains. The history keeps both of Camden's.
                proposal = try await move("open_consultation", planner).decode(ProposalBody.self)
                #expect(proposal.status == "consultation" && proposal.positions_missing.count == 2)
                let early = try await move("submit", planner)
                #expect(early.status == .conflict && early.text.contains(TestKeys.camden.text), "\(early.text)")
                for (headers, position) in [
                    (world.camdenAdmin, "object"), (world.camdenAdmin, "support"), (keys(.partnerAdmin), "abstain"),
                ] {
                    let recorded = try await client.send(
                        .post, path + "/endorsements", headers, #"{"position": "\#(position)", "comment": "Our view: \#(position)."}"#)
                    #expect(recorded.status == .created, "\(recorded.text)")
                }
                proposal = try await client.send(.get, path, keys.analyst).decode(ProposalBody.self)
                #expect(proposal.positions_missing.isEmpty)
                #expect(proposal.endorsements.first { $0.organisation_id == TestKeys.camden.text }?.position == "support")
                let history = try await client.send(.get, path + "/endorsements", keys.analyst).decode(ItemList<ProposalBody.Endorsement>.self)
                #expect(history.items.map(\.position) == ["object", "support", "abstain"])
                #expect(history.items.map(\.superseded) == [true, false, false])

                // Submitted, then decided by MOPAC.
                proposal = try await move("submit", planner).decode(ProposalBody.self)
                #expect(proposal.status == "submitted" && proposal.allowed_actions == ["decide", "withdraw"])
                let decided = try await client.send(
                    .post, path + "/decision", planner, #"{"outcome": "approved", "reference": "PCD 167", "text": "Approved."}"#,
                    ifMatch: "\"\(proposal.version)\"")
                #expect(decided.status == .ok, "\(decided.text)")
                proposal = try decided.decode(ProposalBody.self)
                #expect(proposal.status == "approved" && proposal.decision?.reference == "PCD 167")
                #expect(proposal.decision?.decided_on == Day(clock.now()).description)

                // A milestone falls overdue as the clock moves, and is completed.
                let due = Day(clock.now().addingTimeInterval(2 * 86_400))
                let milestone = try await client.send(
                    .post, path + "/milestones", planner, #"{"title": "Network link live", "due_on": "\#(due)"}"#
                ).decode(ProposalBody.Milestone.self)
                #expect(!milestone.overdue)
                clock.advance(by: .seconds(3 * 86_400))
                proposal = try await client.send(.get, path, keys.analyst).decode(ProposalBody.self)
                #expect(proposal.milestones.map(\.overdue) == [true])
                let completed = try await client.send(
                    .patch, path + "/milestones/" + milestone.id, planner, #"{"completed_on": "\#(Day(clock.now()))"}"#,
                    ifMatch: "\"\(milestone.version)\"")
                #expect(completed.status == .ok, "\(completed.text)")
                #expect(try completed.decode(ProposalBody.Milestone.self).overdue == false)

                // Implementing merges Camden's room into Westminster's.
                proposal = try await client.send(.get, path, keys.analyst).decode(ProposalBody.self)
                proposal = try await move("start_implementation", planner).decode(ProposalBody.self)
                let implemented = try await move("complete_implementation", planner)
                #expect(implemented.status == .ok, "\(implemented.text)")
                proposal = try implemented.decode(ProposalBody.self)
                #expect(proposal.status == "implemented" && proposal.allowed_actions.isEmpty)

                let camden = try await client.send(.get, "/v1/control-rooms/" + world.camdenRoom.text, keys.analyst).decode(MergedRoomBody.self)
                #expect(camden.status == "merged" && camden.merged_into == world.westminsterRoom.text && camden.boroughs_served.isEmpty)
                let host = try await client.send(.get, "/v1/control-rooms/" + world.westminsterRoom.text, keys.analyst).decode(MergedRoomBody.self)
                #expect(host.boroughs_served == ["E09000007", "E09000033"] && host.operator_positions == 5)
                #expect(host.annual_cost_pence == 130_000_000)
                // A merged room is history: its operator cannot change it.
                let edit = try await client.send(
                    .patch, "/v1/control-rooms/" + world.camdenRoom.text, world.camdenAdmin, #"{"name": "Camden"}"#, ifMatch: "\"\(camden.version)\"")
                #expect(edit.status == .conflict)
                let (monitored, taskRoom, taskHolder, arrangementRoom): (Int, UUID?, UUID, UUID) = try await pool.withConnection { connection in
                    (
                        try await connection.query("SELECT count(*) FROM cameras WHERE control_room_id = $1", world.westminsterRoom)[0].decode(0),
                        try await connection.query("SELECT control_room_id FROM evidence_tasks WHERE id = $1", UUID(uuidString: camdenTask.id)!)[0]
                            .decode(0),
                        try await connection.query("SELECT holder_org_id FROM evidence_tasks WHERE id = $1", UUID(uuidString: camdenTask.id)!)[0]
                            .decode(0),
                        try await connection.query("SELECT control_room_id FROM embedding_arrangements WHERE police_org_id = $1", TestKeys.mps)[0]
                            .decode(0)
                    )
                }
                #expect(monitored == 6 && taskRoom == world.westminsterRoom && taskHolder == TestKeys.camden)
                #expect(arrangementRoom == world.westminsterRoom)

                // Who heard: the proposal's events reached the lead, both boroughs, and the force embedded in a room.
                let proposalEvents = try await Self.events(pool, like: "proposal.%")
                #expect(
                    proposalEvents.map(\.type) == [
                        "proposal.created", "proposal.consultation_opened", "proposal.endorsement_recorded", "proposal.endorsement_recorded",
                        "proposal.endorsement_recorded", "proposal.submitted", "proposal.decided", "proposal.milestone_updated",
                        "proposal.milestone_updated", "proposal.implementation_started", "proposal.implemented",
                    ])
                #expect(
                    proposalEvents.allSatisfy { Set($0.audience).isSuperset(of: [world.mopac, TestKeys.westminster, TestKeys.camden, TestKeys.mps]) })
                #expect(proposalEvents.last?.payload.contains(#""cameras_moved": 4"#) == true, "\(proposalEvents.last?.payload ?? "")")
                // Every camera moved has its event; the covert one's is covert.
                let cameraEvents = try await Self.events(pool, like: "camera.updated")
                #expect(cameraEvents.count == 4)
                #expect(cameraEvents.filter(\.covert).count == 1 && cameraEvents.filter(\.covert)[0].payload.contains(world.covertCamera.text))
                #expect(try await Self.events(pool, like: "embedding_arrangement.updated").count == 1)
                #expect(try await Self.events(pool, like: "control_room.updated").count == 2)
                let audited: [String] = try await pool.withConnection { connection in
                    try await connection.query("SELECT audit_chain(100000)")
                    return try await connection.query(
                        "SELECT action FROM audit_log WHERE action LIKE 'proposal.%' OR action = 'control_room.merge' ORDER BY seq"
                    )
                    .map { try $0.decode(0) }
                }
                #expect(
                    audited.contains("control_room.merge") && audited.contains("proposal.complete_implementation")
                        && audited.contains("proposal.decide"))

                // A merged room joins no new proposal.
                let again = try await client.send(.post, "/v1/proposals", planner, world.body(title: "Again"))
                #expect(again.status == .badRequest)
                #expect(try again.decode(ProblemBody.self).errors?.map(\.pointer) == ["/control_room_ids/1"], "\(again.text)")
            }
        }
    }

    @Test func aNewHostIsCreatedAndTheArrangementsEndWhenTheProposalSaysSo() async throws {
        try await TestDatabase.withFresh { pool, url in
            let world = try await ProposalWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                let planner = world.mopacPlanner
                let host = #"{"name": "North Central CCTV Hub", "location": {"lat": 51.53, "lon": -0.12}, "operator_positions": 6}"#
                var proposal = try await client.send(
                    .post, "/v1/proposals", planner, world.body(host: host, extra: #", "embedding_plan": "end""#)
                ).decode(ProposalBody.self)
                @Sendable func move(_ proposal: ProposalBody, _ action: String, extra: String = "") async throws -> ProposalBody {
                    let response = try await client.send(
                        .post, "/v1/proposals/\(proposal.id)/transitions", planner, #"{"action": "\#(action)"\#(extra)}"#,
                        ifMatch: "\"\(proposal.version)\"")
                    #expect(response.status == .ok, "\(action): \(response.text)")
                    return try response.decode(ProposalBody.self)
                }
                proposal = try await move(proposal, "open_consultation")
                // A planner may submit without every position, saying why; the reason is kept.
                proposal = try await move(proposal, "submit", extra: #", "override_reason": "Camden's cabinet meets after the deadline.""#)
                #expect(proposal.submission_override_reason == "Camden's cabinet meets after the deadline.")
                proposal = try await client.send(
                    .post, "/v1/proposals/\(proposal.id)/decision", planner, #"{"outcome": "approved", "reference": "PCD 167", "text": "Approved."}"#,
                    ifMatch: "\"\(proposal.version)\""
                ).decode(ProposalBody.self)
                proposal = try await move(proposal, "start_implementation")
                proposal = try await move(proposal, "complete_implementation")
                let newRoom = try #require(proposal.implemented_room_id)
                let room = try await client.send(.get, "/v1/control-rooms/" + newRoom, keys.analyst).decode(MergedRoomBody.self)
                #expect(room.status == "active" && room.boroughs_served == ["E09000007", "E09000033"] && room.operator_positions == 6)
                for old in [world.westminsterRoom, world.camdenRoom] {
                    let merged = try await client.send(.get, "/v1/control-rooms/" + old.text, keys.analyst).decode(MergedRoomBody.self)
                    #expect(merged.status == "merged" && merged.merged_into == newRoom)
                }
                let ended: Bool = try await pool.withConnection { connection in
                    try await connection.query("SELECT ends_on = current_date FROM embedding_arrangements")[0].decode(0)
                }
                #expect(ended)
                #expect(try await Self.events(pool, like: "embedding_arrangement.ended").count == 1)
                #expect(try await Self.events(pool, like: "control_room.created").count == 1)
            }
        }
    }

    @Test func theAppraisalIsComputedLiveFromTheRoomsAndTakesWhatIfOverridesWithoutChangingTheProposal() async throws {
        try await TestDatabase.withFresh { pool, url in
            let world = try await ProposalWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                let proposal = try await client.send(.post, "/v1/proposals", world.mopacPlanner, world.body()).decode(ProposalBody.self)
                let path = "/v1/proposals/\(proposal.id)/appraisal"
                let appraisal = try await client.send(.get, path, keys(.operator)).decode(AppraisalBody.self)
                // The figures of docs/appraisal/reference.py's first case (the same saving and costs), from what the
                // registry holds: covert cameras are never counted.
                #expect(appraisal.baseline_annual_cost_pence == 215_000_000 && appraisal.annual_saving_pence == 85_000_000)
                #expect(appraisal.one_off_cost_with_optimism_bias_pence == 175_700_000 && appraisal.payback_years == 2.07)
                #expect(appraisal.net_present_value_pence == 531_211_453)
                #expect(appraisal.sensitivity.saving_80_percent_pence == 389_829_161)
                #expect(appraisal.years.count == 10 && appraisal.cameras == 5 && appraisal.positions_before == 7 && appraisal.positions_after == 5)
                #expect(appraisal.cameras_per_position_before == 0.71 && appraisal.boroughs_covered == ["E09000007", "E09000033"])
                #expect(appraisal.arrangements_affected.count == 1 && !appraisal.overridden)

                let whatIf = try await client.send(.get, path + "?years=60&network_pence=0", keys(.operator)).decode(AppraisalBody.self)
                #expect(whatIf.overridden && whatIf.years.count == 60 && whatIf.one_off_cost_with_optimism_bias_pence == 175_700_000 - 36_000_000)
                for (query, parameter) in [
                    ("years=0", "years"), ("years=61", "years"), ("discount_rate_percent=20.5", "discount_rate_percent"),
                    ("long_term_discount_rate_percent=-1", "long_term_discount_rate_percent"), ("migration_pence=-1", "migration_pence"),
                ] {
                    let refused = try await client.send(.get, path + "?" + query, keys(.operator))
                    #expect(refused.status == .badRequest, "\(query): \(refused.text)")
                    #expect(refused.text.contains(parameter), "\(query): \(refused.text)")
                }
                let after = try await client.send(.get, "/v1/proposals/" + proposal.id, keys.analyst).decode(ProposalBody.self)
                #expect(after.version == proposal.version)

                // Westminster's operator keeps the room's cost facts current; the next appraisal reads them.
                let room = "/v1/control-rooms/" + world.westminsterRoom.text
                let version = try await client.send(.get, room, keys.analyst).decode(MergedRoomBody.self).version
                let badDate = try await client.send(.patch, room, keys(.operator), #"{"costs_reviewed_on": "2026-02-30"}"#, ifMatch: "\"\(version)\"")
                #expect(badDate.status == .badRequest && badDate.text.contains("/costs_reviewed_on"), "\(badDate.text)")
                let negative = try await client.send(.patch, room, keys(.operator), #"{"staff_fte": -1}"#, ifMatch: "\"\(version)\"")
                #expect(try negative.decode(ProblemBody.self).errors?.map(\.pointer) == ["/staff_fte"], "\(negative.text)")
                let reviewed = try await client.send(
                    .patch, room, keys(.operator), #"{"annual_cost_pence": 125000000, "staff_fte": 21.5, "costs_reviewed_on": "2026-11-01"}"#,
                    ifMatch: "\"\(version)\"")
                #expect(reviewed.status == .ok, "\(reviewed.text)")
                #expect(reviewed.text.contains(#""staff_fte":21.5"#) && reviewed.text.contains(#""costs_reviewed_on":"2026-11-01""#))
                let again = try await client.send(.get, path, keys(.operator)).decode(AppraisalBody.self)
                #expect(again.baseline_annual_cost_pence == 220_000_000 && again.annual_saving_pence == 90_000_000)
            }
        }
    }

    @Test func implementationIsRefusedAndChangesNothingWhenARoomStoppedRunningAfterTheDecision() async throws {
        try await TestDatabase.withFresh { pool, url in
            let world = try await ProposalWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                let planner = world.mopacPlanner
                var proposal = try await client.send(.post, "/v1/proposals", planner, world.body()).decode(ProposalBody.self)
                let path = "/v1/proposals/" + proposal.id
                for (action, extra) in [("open_consultation", ""), ("submit", #", "override_reason": "Urgent.""#)] {
                    proposal = try await client.send(
                        .post, path + "/transitions", planner, #"{"action": "\#(action)"\#(extra)}"#, ifMatch: "\"\(proposal.version)\""
                    ).decode(ProposalBody.self)
                }
                proposal = try await client.send(
                    .post, path + "/decision", planner, #"{"outcome": "approved", "reference": "PCD 167", "text": "Approved."}"#,
                    ifMatch: "\"\(proposal.version)\""
                ).decode(ProposalBody.self)
                proposal = try await client.send(
                    .post, path + "/transitions", planner, #"{"action": "start_implementation"}"#, ifMatch: "\"\(proposal.version)\""
                ).decode(ProposalBody.self)
                // Camden closes its room meanwhile.
                let camden = "/v1/control-rooms/" + world.camdenRoom.text
                let version = try await client.send(.get, camden, keys.analyst).decode(MergedRoomBody.self).version
                let closed = try await client.send(.patch, camden, world.camdenAdmin, #"{"status": "closed"}"#, ifMatch: "\"\(version)\"")
                #expect(closed.status == .ok, "\(closed.text)")
                let refused = try await client.send(
                    .post, path + "/transitions", planner, #"{"action": "complete_implementation"}"#, ifMatch: "\"\(proposal.version)\"")
                #expect(refused.status == .conflict && refused.text.contains(world.camdenRoom.text), "\(refused.text)")
                let (moved, merged): (Int, Int) = try await pool.withConnection { connection in
                    (
                        try await connection.query("SELECT count(*) FROM cameras WHERE control_room_id = $1", world.westminsterRoom)[0].decode(0),
                        try await connection.query("SELECT count(*) FROM control_rooms WHERE status = 'merged'")[0].decode(0)
                    )
                }
                #expect(moved == 2 && merged == 0)
                #expect(try await client.send(.get, path, keys.analyst).decode(ProposalBody.self).status == "implementing")
            }
        }
    }

    @Test func badInputIsRefusedNamingWhatWasWrongAndLeavesNothingWritten() async throws {
        try await TestDatabase.withFresh { pool, url in
            let world = try await ProposalWorld.make(pool)
            try await withApp(pool: pool, url: url) { client, keys in
                let planner = world.mopacPlanner
                for (body, pointer) in [
                    (world.body(extra: #", "parameters": {"discount_rate_percent": 20.5}"#), "/parameters/discount_rate_percent"),
                    (world.body(extra: #", "parameters": {"years": 0}"#), "/parameters/years"),
                    (world.body(extra: #", "parameters": {"years": 61}"#), "/parameters/years"),
                    (world.body().replacingOccurrences(of: #""network": 25000000"#, with: #""network": -1"#), "/one_off_costs_pence/network"),
                    (world.body().replacingOccurrences(of: "130000000", with: "-5"), "/proposed_annual_cost_pence"),
                    (world.body(rooms: [world.westminsterRoom, UUID()]), "/control_room_ids/1"),
                ] {
                    let refused = try await client.send(.post, "/v1/proposals", planner, body)
                    #expect(refused.status == .badRequest, "\(pointer): \(refused.text)")
                    #expect(try refused.decode(ProblemBody.self).errors?.map(\.pointer).contains(pointer) == true, "\(pointer): \(refused.text)")
                }
                // A partner admin proposes only rooms its organisation runs.
                let foreign = try await client.send(
                    .post, "/v1/proposals", world.camdenAdmin,
                    world.body(rooms: [world.camdenRoom, world.islingtonRoom], host: #"{"control_room_id": "\#(world.camdenRoom.text)"}"#))
                #expect(foreign.status == .forbidden && foreign.text.contains("control_room_ids/1"), "\(foreign.text)")
                #expect(try await client.send(.post, "/v1/proposals", keys(.operator), world.body()).status == .forbidden)
                let written: Int = try await pool.withConnection { try await $0.query("SELECT count(*) FROM proposals")[0].decode(0) }
                #expect(written == 0)

                // Camden's partner admin leads a proposal of its own room with Westminster's (a planner adds it).
                var proposal = try await client.send(.post, "/v1/proposals", planner, world.body()).decode(ProposalBody.self)
                let path = "/v1/proposals/" + proposal.id
                // Out of order: 409 naming what may be done; stale: 412; missing If-Match: 428.
                let outOfOrder = try await client.send(.post, path + "/transitions", planner, #"{"action": "submit"}"#, ifMatch: "\"1\"")
                #expect(outOfOrder.status == .conflict)
                #expect(try outOfOrder.decode(ProblemBody.self).allowed_actions == ["open_consultation", "withdraw"])
                #expect(
                    try await client.send(.post, path + "/transitions", planner, #"{"action": "open_consultation"}"#, ifMatch: "\"7\"").status
                        == .preconditionFailed)
                #expect(
                    try await client.send(.post, path + "/transitions", planner, #"{"action": "open_consultation"}"#).status == .preconditionRequired)
                // Endorsement by a non-participant: there is nothing of theirs to record (404); outside consultation: 409.
                let islingtonAdmin = try await ProposalTests.key(pool, world.islington, .partnerAdmin)
                #expect(try await client.send(.post, path + "/endorsements", islingtonAdmin, #"{"position": "support"}"#).status == .notFound)
                #expect(try await client.send(.post, path + "/endorsements", world.camdenAdmin, #"{"position": "support"}"#).status == .conflict)
                proposal = try await client.send(.post, path + "/transitions", planner, #"{"action": "open_consultation"}"#, ifMatch: "\"1\"").decode(
                    ProposalBody.self)
                // A draft field once in consultation: 409.
                #expect(try await client.send(.patch, path, planner, #"{"title": "x"}"#, ifMatch: "\"\(proposal.version)\"").status == .conflict)
                // Submission with positions missing, by the lead's steward without override: 409; an override by a partner admin: 403.
                let missing = try await client.send(
                    .post, path + "/transitions", planner, #"{"action": "submit"}"#, ifMatch: "\"\(proposal.version)\"")
                #expect(missing.status == .conflict && missing.text.contains("override_reason"))
                _ = try await client.send(.post, path + "/endorsements", world.camdenAdmin, #"{"position": "object", "comment": "Too far."}"#)
                _ = try await client.send(.post, path + "/endorsements", keys(.partnerAdmin), #"{"position": "support"}"#)
                proposal = try await client.send(.get, path, keys.analyst).decode(ProposalBody.self)
                proposal = try await client.send(.post, path + "/transitions", planner, #"{"action": "submit"}"#, ifMatch: "\"\(proposal.version)\"")
                    .decode(ProposalBody.self)
                // A decision by a borough: 403; by a planner without a reference: 400 naming it; with a future date: 400.
                let ifMatch = "\"\(proposal.version)\""
                #expect(
                    try await client.send(
                        .post, path + "/decision", keys(.partnerAdmin), #"{"outcome": "approved", "reference": "PCD 167", "text": "Yes."}"#,
                        ifMatch: ifMatch
                    ).status == .forbidden)
                #expect(
                    try await client.send(
                        .post, path + "/decision", keys(.planner), #"{"outcome": "approved", "reference": "PCD 167", "text": "Yes."}"#,
                        ifMatch: ifMatch
                    ).status == .forbidden)
                let noReference = try await client.send(
                    .post, path + "/decision", planner, #"{"outcome": "approved", "text": "Yes."}"#, ifMatch: ifMatch)
                #expect(noReference.status == .badRequest && noReference.text.contains("/reference"), "\(noReference.text)")
                let blank = try await client.send(
                    .post, path + "/decision", planner, #"{"outcome": "approved", "reference": " ", "text": "Yes."}"#, ifMatch: ifMatch)
                #expect(try blank.decode(ProblemBody.self).errors?.map(\.pointer) == ["/reference"])
                let future = try await client.send(
                    .post, path + "/decision", planner,
                    #"{"outcome": "rejected", "reference": "PCD 167", "decided_on": "2999-01-01", "text": "No."}"#, ifMatch: ifMatch)
                #expect(future.status == .badRequest)
                let rejected = try await client.send(
                    .post, path + "/decision", planner, #"{"outcome": "rejected", "reference": "PCD 167", "text": "No."}"#, ifMatch: ifMatch)
                #expect(rejected.status == .ok, "\(rejected.text)")
                // Rejected is final: no move, no withdrawal, no milestones.
                let final = try rejected.decode(ProposalBody.self)
                #expect(final.status == "rejected" && final.allowed_actions.isEmpty)
                #expect(
                    try await client.send(.post, path + "/transitions", planner, #"{"action": "withdraw"}"#, ifMatch: "\"\(final.version)\"").status
                        == .conflict)
                #expect(try await client.send(.post, path + "/milestones", planner, #"{"title": "x", "due_on": "2027-01-01"}"#).status == .conflict)
            }
        }
    }

    static func key(_ pool: PostgresPool, _ organisation: UUID, _ role: Role) async throws -> HTTPFields {
        let (_, token) = try await APIKeyStore(Database(pool: pool)).create(
            organisationID: organisation, name: "proposal test", role: role, covertAccess: false, expiresAt: nil, createdBy: nil,
            actor: .commandLine("test"))
        return [.authorization: "Bearer " + token.text, TestKeys.person: TestKeys.personNamed(role)]
    }
}

/// A control room as the tests read it.
struct MergedRoomBody: Decodable {
    let status: String
    let merged_into: String?
    let boroughs_served: [String]
    let operator_positions: Int?
    let annual_cost_pence: Int?
    let version: Int
}

/// A list of items.
struct ItemList<Item: Decodable>: Decodable {
    let items: [Item]
    let next_cursor: String?
}
