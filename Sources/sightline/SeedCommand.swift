import ArgumentParser
import Domain
import Foundation
import Storage

/// `sightline seed demo`: demonstration keys for `make run`.
struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load demonstration data.", subcommands: [Demo.self])

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create one key per role for Westminster, the MPS and MOPAC, revoking the previous demo keys, and print them."
        )

        @OptionGroup var settings: SettingsOptions

        func run() async throws {
            try await settings.withPool { pool in
                let organisations = OrganisationStore(pool: pool)
                let keys = APIKeyStore(pool: pool)
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
}
