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
                cameras and five covert police cameras; and two shared-room proposals (one in consultation, one \
                being implemented). The keys are replaced on every run: one per persona of the \
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
            abstract: "Add synthetic cameras for benchmarks, spread over London's boroughs by area."
        )

        @OptionGroup var settings: SettingsOptions

        @Option(help: "How many cameras to add.")
        var cameras: Int

        func validate() throws {
            guard (1...10_000_000).contains(cameras) else { throw ArgumentParser.ValidationError("--cameras must be from 1 to 10000000") }
        }

        func run() async throws {
            try await settings.withDatabase { database in
                let start = ContinuousClock.now
                let added = try await RegistrySeeder(database).addSyntheticCameras(count: cameras, actor: .commandLine("sightline seed synthetic"))
                try output("added \(added) synthetic cameras in \(ContinuousClock.now - start)\n")
            }
        }
    }
}
