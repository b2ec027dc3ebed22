import ArgumentParser
import Storage

/// `sightline audit verify`: recompute the audit log's hash chain.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Work with the audit log.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain; exit 1 and name the first broken row if it was tampered with."
        )

        @OptionGroup var settings: SettingsOptions

        func run() async throws {
            try await settings.withDatabase { database in
                let verification = try await AuditStore(database).verify()
                guard let broken = verification.firstBrokenSeq else {
                    try output("audit log intact: \(verification.checked) row(s) checked\n")
                    return
                }
                throw CommandFailure(
                    description:
                        "audit log broken at row \(broken): \(verification.reason ?? "") (\(verification.checked) row(s) before it are intact)"
                )
            }
        }
    }
}
