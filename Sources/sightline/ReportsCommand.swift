import ArgumentParser
import Domain
import Foundation
import Storage

/// `sightline reports build`: build or backfill a night's reports by hand.
struct Reports: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Work with the nightly partner reports.", subcommands: [Build.self])

    struct Build: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the reports of one London day that are not stored yet (a rerun changes nothing).",
            discussion: """
                Builds every organisation's report and the pan-London one for --date, or only --org's, exactly as the \
                nightly job does (SIGHTLINE_REPORTS_TIME_ZONE's calendar day, the configured deadlines), and announces \
                each with report.ready. Reports already stored are left as they are.
                """
        )

        @Option(help: "The day, YYYY-MM-DD; it must have ended.") var date: String
        @Option(help: "Only this organisation's report: its id, name or GSS code.") var org: String?
        @OptionGroup var settings: SettingsOptions

        func run() async throws {
            guard let day = Day(date) else { throw CommandFailure(description: "--date must be a date, YYYY-MM-DD, not \"\(date.prefix(40))\"") }
            try await settings.withConfiguredDatabase { database, configuration in
                let schedule = configuration.reports
                let end = schedule.interval(of: day).end
                guard end <= database.clock.now() else {
                    throw CommandFailure(description: "the \(schedule.timeZone.identifier) day \(day) has not ended yet: its reports cannot be built")
                }
                var organisationID: UUID?
                if let org {
                    guard let found = try await OrganisationStore(database).resolve(org) else {
                        throw CommandFailure(description: "no organisation has the id, name or GSS code \"\(org.prefix(80))\"")
                    }
                    organisationID = found.id
                }
                let reports = ReportStore(database)
                let built: ReportBuild?
                do {
                    built = try await reports.build(
                        day: day, schedule: schedule, sla: configuration.evidence.sla, organisationID: organisationID, recordRun: false)
                } catch let refusal as ReportRefusal {
                    throw CommandFailure(description: "\(refusal) (\(day))")
                }
                guard let build = built else {
                    throw CommandFailure(description: "another instance is building reports at this moment; run this again shortly")
                }
                // The report.ready events wait in the outbox: the workers' dispatchers are told there is work.
                if !build.created.isEmpty { try await WebhookQueue(database).wakeDispatchers() }
                var text = "\(day): \(build.created.count) report(s) built, \(build.existing) already stored\n"
                for report in build.created {
                    text +=
                        "  \(report.id.uuidString.lowercased())  \(report.kind.rawValue)  \(report.organisationID?.uuidString.lowercased() ?? "London")\n"
                }
                try output(text)
            }
        }
    }
}
