import ArgumentParser
import Domain
import Foundation
import Storage

/// `sightline seed demo`: demonstration keys for `make run`.
struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load demonstration data.", subcommands: [Demo.self, Synthetic.self])

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a demonstration London (once), and print one new key per role for Westminster, the MPS and MOPAC.",
            discussion: """
                The registry is loaded the first time only: a control room for every borough (three shared by two \
                neighbours) and a TfL room, about 15,000 cameras inside the borough boundaries, TfL and business \
                cameras and five covert police cameras. The keys are replaced on every run.
                """
        )

        @OptionGroup var settings: SettingsOptions

        func run() async throws {
            try await settings.withDatabase { database in
                let seeder = RegistrySeeder(database)
                if try await !seeder.hasDemoRegistry() {
                    let (rooms, cameras) = try await seeder.seedDemoRegistry(boroughCameras: 15_000, actor: .commandLine("sightline seed demo"))
                    try output("Demo registry: \(rooms) control rooms, \(cameras) cameras.\n")
                }
                let organisations = OrganisationStore(database)
                let keys = APIKeyStore(database)
                var lines: [String] = []
                for reference in ["E09000033", "Metropolitan Police Service", "Mayor's Office for Policing and Crime"] {
                    guard let organisation = try await organisations.resolve(reference) else {
                        throw CommandFailure(description: "reference organisation \(reference) is missing: run sightline migrate")
                    }
                    // Demo keys are named "demo: <role>"; each run replaces the last run's.
                    let existing = try await keys.list(organisationID: organisation.id, page: PageRequest(limit: 500, cursor: nil))
                    for key in existing.items where key.name.hasPrefix("demo: ") && key.revokedAt == nil {
                        _ = try await keys.revoke(id: key.id, actor: .commandLine("sightline seed demo"))
                    }
                    for role in Role.allCases {
                        let covert = organisation.kind == .police && role == .requester
                        let (_, token) = try await keys.create(
                            organisationID: organisation.id, name: "demo: \(role.rawValue)", role: role, covertAccess: covert,
                            expiresAt: nil, createdBy: nil, actor: .commandLine("sightline seed demo")
                        )
                        let label = "\(organisation.name) \(role.rawValue)\(covert ? " (covert access)" : "")"
                        lines.append(label.padding(toLength: 62, withPad: " ", startingAt: 0) + token.text)
                    }
                }
                try output("Demo API keys (new each run; send as Authorization: Bearer <key>):\n" + lines.joined(separator: "\n") + "\n")
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
