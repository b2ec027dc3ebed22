import ArgumentParser
import Domain
import Foundation
import Logging
import Storage

/// `sightline keys`: create, list and revoke API keys from the command line (the first admin key comes from here).
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke API keys.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it once.")

        @OptionGroup var settings: SettingsOptions
        @Option(help: "The organisation: a borough's GSS code, an organisation id, or its exact name.") var org: String
        @Option(help: "One of: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String
        @Flag(help: "Let the key see covert cameras.") var covert = false
        @Option(help: "A name to recognise the key by.") var name: String?
        @Option(name: .customLong("expires-in"), help: "Lifetime such as 90d, 12h or 30m; never expires if absent.") var expiresIn: String?

        func run() async throws {
            guard let role = Role(rawValue: role) else {
                throw CommandFailure(description: "--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var expiresAt: Date?
            if let expiresIn {
                guard let seconds = Self.seconds(expiresIn) else { throw CommandFailure(description: "--expires-in must look like 90d, 12h or 30m") }
                expiresAt = SystemClock().now().addingTimeInterval(seconds)
            }
            try await settings.withDatabase { database in
                guard let organisation = try await OrganisationStore(database).resolve(org) else {
                    throw CommandFailure(description: "no organisation matches \"\(org)\"")
                }
                do {
                    try APIKeyRules.checkRole(role, for: organisation)
                } catch let error as Domain.ValidationError {
                    throw CommandFailure(description: "--role admin: " + (error.problems.first?.detail ?? "not for this organisation"))
                }
                let (key, token) = try await APIKeyStore(database).create(
                    organisationID: organisation.id, name: name ?? "\(role.rawValue) key", role: role, covertAccess: covert,
                    expiresAt: expiresAt, createdBy: nil, actor: .commandLine("sightline keys create")
                )
                try output("\(token.text)\n")
                try output("  \(key.role.rawValue) key \"\(key.name)\" for \(organisation.name); shown once, store it now.\n", to: .standardError)
            }
        }

        static func seconds(_ text: String) -> TimeInterval? {
            guard let unit = text.last, let number = Double(text.dropLast()), number > 0 else { return nil }
            switch unit {
            case "d": return number * 86_400
            case "h": return number * 3_600
            case "m": return number * 60
            default: return nil
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")

        @OptionGroup var settings: SettingsOptions
        @Option(help: "Only this organisation's keys (GSS code, id or name).") var org: String?

        func run() async throws {
            try await settings.withDatabase { database in
                var organisationID: UUID?
                if let org {
                    guard let organisation = try await OrganisationStore(database).resolve(org) else {
                        throw CommandFailure(description: "no organisation matches \"\(org)\"")
                    }
                    organisationID = organisation.id
                }
                let store = APIKeyStore(database)
                var cursor: String?
                var lines = ["prefix        role              covert  state     name"]
                repeat {
                    let page = try await store.list(organisationID: organisationID, page: PageRequest(limit: 500, cursor: cursor))
                    for key in page.items {
                        let state = key.revokedAt != nil ? "revoked" : key.isUsable(at: SystemClock().now()) ? "active" : "expired"
                        lines.append(
                            key.prefix.padding(toLength: 14, withPad: " ", startingAt: 0)
                                + key.role.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)
                                + (key.covertAccess ? "yes" : "no").padding(toLength: 8, withPad: " ", startingAt: 0)
                                + state.padding(toLength: 10, withPad: " ", startingAt: 0) + key.name
                        )
                    }
                    cursor = page.nextCursor?.encoded
                } while cursor != nil
                try output(lines.joined(separator: "\n") + "\n")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its prefix.")

        @OptionGroup var settings: SettingsOptions
        @Argument(help: "The key's prefix (the 12 characters after sl_live_).") var prefix: String

        func run() async throws {
            try await settings.withDatabase { database in
                guard let key = try await APIKeyStore(database).revoke(prefix: prefix, actor: .commandLine("sightline keys revoke")) else {
                    throw CommandFailure(description: "no key has the prefix \"\(prefix)\"")
                }
                try output("revoked \(key.prefix) (\(key.role.rawValue), \"\(key.name)\")\n")
            }
        }
    }
}
