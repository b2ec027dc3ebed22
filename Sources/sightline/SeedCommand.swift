import ArgumentParser
import Domain
import Foundation
import Storage

/// `sightline seed demo`: demonstration keys for `make run`.
struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load demonstration data.", subcommands: [Demo.self, Synthetic.self])

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a demonstration London (once), and print a key for each persona of the walk-through.",
            discussion: """
                The registry is loaded the first time only: a control room for every borough (three shared by two \
                neighbours) and a TfL room, about 15,000 cameras inside the borough boundaries, TfL and business \
                cameras and five covert police cameras; two shared-room proposals (one in consultation, one \
                being implemented); and a week of evidence requests, all settled, for the nightly reports. The keys are replaced on every run: one per persona of the \
                README's walk-through, printed as shell lines to paste; --all-roles prints one per role of \
                Westminster, the MPS and MOPAC too.
                """
        )

        /// Who the walk-through's people are: the variable the README uses, their organisation, role and one line.
        static let personas: [(variable: String, organisation: String, role: Role, who: String)] = [
            ("INVESTIGATOR", "Metropolitan Police Service", .requester, "MPS investigator: asks for footage and follows it to collection"),
            ("EMBEDDED", "Metropolitan Police Service", .embeddedOfficer, "MPS officer embedded in Westminster's room: works its tasks for the MPS"),
            ("OPERATOR", "E09000033", .operator, "Westminster CCTV operator: works the room's evidence queue, keeps its cameras current"),
            ("PARTNER_ADMIN", "E09000033", .partnerAdmin, "Westminster partner admin: Westminster's keys and webhook endpoints"),
            ("ENFORCEMENT", "E09000033", .requester, "Westminster enforcement officer: asks TfL and neighbours for footage"),
            ("PLANNER", "Mayor's Office for Policing and Crime", .planner, "MOPAC planner: shared-room proposals and pan-London figures"),
            ("AUDITOR", "E09000033", .auditor, "Westminster auditor: reads Westminster's audit log"),
            ("ADMIN", "Sightline platform operator", .admin, "platform admin: runs Sightline, acts on every organisation"),
        ]

        @OptionGroup var settings: SettingsOptions

        @Flag(name: .customLong("all-roles"), help: "Also print a key for every role of Westminster, the MPS and MOPAC.")
        var allRoles = false

        func run() async throws {
            try await settings.withDatabase { database in
                let seeder = RegistrySeeder(database)
                if try await !seeder.hasDemoRegistry() {
                    let (rooms, cameras) = try await seeder.seedDemoRegistry(boroughCameras: 15_000, actor: .commandLine("sightline seed demo"))
                    try output("Demo registry: \(rooms) control rooms, \(cameras) cameras.\n")
                }
                let organisations = OrganisationStore(database)
                let keys = APIKeyStore(database)
                let actor = AuditActor.commandLine("sightline seed demo")
                var resolved: [String: Organisation] = [:]
                for reference in ["E09000033", "Metropolitan Police Service", "Mayor's Office for Policing and Crime", "Sightline platform operator"]
                {
                    guard let organisation = try await organisations.resolve(reference) else {
                        throw CommandFailure(description: "reference organisation \(reference) is missing: run sightline migrate")
                    }
                    resolved[reference] = organisation
                    // Demo keys are named "demo: …"; each run replaces the last run's.
                    let existing = try await keys.list(organisationID: organisation.id, page: PageRequest(limit: 500, cursor: nil))
                    for key in existing.items where key.name.hasPrefix("demo: ") && key.revokedAt == nil {
                        _ = try await keys.revoke(id: key.id, actor: actor)
                    }
                }
                var lines = ["# Demo personas (new keys each run). Paste these lines into the shell you follow the README in:"]
                var plannerKeyID: UUID?
                for persona in Self.personas {
                    let organisation = resolved[persona.organisation]!
                    let (key, token) = try await keys.create(
                        organisationID: organisation.id, name: "demo: " + persona.variable.lowercased(), role: persona.role, covertAccess: false,
                        expiresAt: nil, createdBy: nil, actor: actor
                    )
                    if persona.role == .planner { plannerKeyID = key.id }
                    lines.append("export \(persona.variable)=\(token.text)  # \(persona.who)")
                }
                try await RegistrySeeder(database).fillDemoCostFacts()
                // A week of evidence for the nightly reports to count (the server's reports job builds those nights when
                // it starts), every task of it settled so that the queues hold only what the walk-through makes.
                let history = EvidenceHistorySeeder(database)
                if try await !history.hasHistory() {
                    let added = try await history.addHistory(
                        requests: 1_050, days: 7, now: database.clock.now(), pace: 0.25, settled: true, actor: actor)
                    lines.append("# Demo evidence history: \(added.requests) requests with \(added.tasks) tasks over the last 7 days")
                }
                let proposals = DemoProposals(database: database, actor: actor)
                if let plannerKeyID, try await !proposals.exist() {
                    let mopac = resolved["Mayor's Office for Policing and Crime"]!.id
                    for title in try await proposals.seed(plannerKeyID: plannerKeyID, mopac: mopac) {
                        lines.append("# Demo proposal made: \(title)")
                    }
                }
                if allRoles {
                    lines.append("# Every role of Westminster, the MPS and MOPAC (admin keys belong to the platform operator, above):")
                    for reference in ["E09000033", "Metropolitan Police Service", "Mayor's Office for Policing and Crime"] {
                        let organisation = resolved[reference]!
                        for role in Role.allCases where role != .admin {
                            let covert = organisation.kind == .police && role == .requester
                            let (_, token) = try await keys.create(
                                organisationID: organisation.id, name: "demo: \(role.rawValue)", role: role, covertAccess: covert,
                                expiresAt: nil, createdBy: nil, actor: actor
                            )
                            lines.append("# \(organisation.name) \(role.rawValue)\(covert ? " (covert access)" : ""): \(token.text)")
                        }
                    }
                }
                try output(lines.joined(separator: "\n") + "\n")
            }
        }
    }

    struct Synthetic: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add synthetic cameras, spread over London's boroughs by area, and a synthetic history of evidence requests.",
            discussion: """
                For benchmarks: --cameras adds cameras owned by the borough authorities and monitored by their rooms; \
                --requests adds requests by the police forces over the --days before now, each with its tasks living \
                out a plausible life (see EvidenceHistorySeeder), for the nightly reports to count.
                """
        )

        @OptionGroup var settings: SettingsOptions

        @Option(help: "How many cameras to add.")
        var cameras: Int = 0

        @Option(help: "How many evidence requests (with their tasks) to add, spread over the --days before now.")
        var requests: Int = 0

        @Option(help: "How many days the requests are spread over.")
        var days: Int = 365

        @Flag(help: "Cancel, a minute before now, every task the history would leave live (so no alert falls due).")
        var settled = false

        func validate() throws {
            guard (0...10_000_000).contains(cameras) else { throw ArgumentParser.ValidationError("--cameras must be from 0 to 10000000") }
            guard (0...10_000_000).contains(requests) else { throw ArgumentParser.ValidationError("--requests must be from 0 to 10000000") }
            guard (1...3650).contains(days) else { throw ArgumentParser.ValidationError("--days must be from 1 to 3650") }
            guard cameras + requests > 0 else { throw ArgumentParser.ValidationError("give --cameras, --requests or both") }
        }

        func run() async throws {
            try await settings.withConfiguredDatabase { database, configuration in
                let actor = AuditActor.commandLine("sightline seed synthetic")
                if cameras > 0 {
                    let start = ContinuousClock.now
                    let added = try await RegistrySeeder(database).addSyntheticCameras(count: cameras, actor: actor)
                    try output("added \(added) synthetic cameras in \(ContinuousClock.now - start)\n")
                }
                if requests > 0 {
                    let start = ContinuousClock.now
                    let added = try await EvidenceHistorySeeder(database, sla: configuration.evidence.sla).addHistory(
                        requests: requests, days: days, now: database.clock.now(), settled: settled, actor: actor)
                    try output(
                        "added \(added.requests) synthetic requests with \(added.tasks) tasks over \(days) days in \(ContinuousClock.now - start)\n")
                }
            }
        }
    }
}
