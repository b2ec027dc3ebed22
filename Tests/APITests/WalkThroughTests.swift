import Foundation
import LibCurl
import TestSupport
import Testing

/// The README's walk-through, run as a newcomer runs it: the demo seeded and the server started as `make run`
/// does, the persona lines pasted, then the shell block exactly as written (only its host and receiver port
/// moved), every command required to succeed.
@Suite("The README's walk-through, run as written")
struct WalkThroughTests {
    /// The shell block after the walk-through marker of README.md.
    static func walkThrough() throws -> String {
        let readme = try String(contentsOf: repositoryRoot.appending(path: "README.md"), encoding: .utf8)
        let marker = try #require(readme.range(of: "<!-- walk-through"))
        let open = try #require(readme.range(of: "```sh\n", range: marker.upperBound..<readme.endIndex))
        let close = try #require(readme.range(of: "\n```", range: open.upperBound..<readme.endIndex))
        return String(readme[open.upperBound..<close.lowerBound])
    }

    @Test func theWalkThroughRunsFromStartToFinishAsWritten() async throws {
        try await TestDatabase.withFresh { _, url in
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "sightline").path
            // As `make run`: the demo seeded by the schema owner, its persona lines printed to paste.
            let seed = try ChildProcess(binary, ["seed", "demo"], environment: ["SIGHTLINE_DATABASE_URL": url])
            #expect(try await seed.exitStatus(timeout: .seconds(600)) == 0, "\(seed.output)")
            let exports = seed.output.split(separator: "\n").filter { $0.hasPrefix("export ") }
            #expect(exports.count == 8, "\(seed.output)")

            // As `make run`: served as the server's role, webhooks allowed to reach this machine.
            let port = Int.random(in: 20_000..<30_000)
            let receiverPort = Int.random(in: 30_000..<40_000)
            let evidence = FileManager.default.temporaryDirectory.path + "/sightline-walk-through-" + UUID().uuidString
            let server = try ChildProcess(
                binary, ["serve"],
                environment: [
                    "SIGHTLINE_DATABASE_URL": TestDatabase.serverURL(url), "SIGHTLINE_HTTP_PORT": String(port),
                    "SIGHTLINE_WEBHOOK_ALLOW_CIDRS": "127.0.0.0/8", "SIGHTLINE_EVIDENCE_DIR": evidence, "SIGHTLINE_LOG_FORMAT": "json",
                ]
            )
            defer {
                kill(server.pid, SIGTERM)
                try? FileManager.default.removeItem(atPath: evidence)
            }
            let client = CurlClient()
            defer { client.shutdown() }
            #expect(
                try await eventually(.seconds(60)) {
                    (try? await client.execute(CurlRequest(url: "http://127.0.0.1:\(port)/readyz")))?.status == 200
                })

            let block = try Self.walkThrough()
                .replacingOccurrences(of: "localhost:8080", with: "127.0.0.1:\(port)")
                .replacingOccurrences(of: "webhook-receiver.py 9000", with: "webhook-receiver.py \(receiverPort)")
                .replacingOccurrences(of: "127.0.0.1:9000", with: "127.0.0.1:\(receiverPort)")
            let script = "set -euo pipefail\ncd '\(repositoryRoot.path)'\n" + exports.joined(separator: "\n") + "\n" + block
            let run = try ChildProcess("/bin/bash", ["-c", script])
            let status = try await run.exitStatus(timeout: .seconds(300))
            let output = run.output
            #expect(status == 0, "\(output)")
            // What the newcomer is told along the way.
            #expect(output.contains("ready"), "\(output)")
            #expect(output.contains(#""offence": "robbery""#) && output.contains(#""name": "DC Sam Patel""#), "\(output)")
            #expect(output.contains(#"{"status":"acknowledged","hold_until":"#), "\(output)")
            #expect(output.contains("the exhibit is intact"), "\(output)")
            #expect(output.contains(#"{"status":"collected","hold_released_at":"#), "\(output)")
            let custody = output.split(separator: "\n").filter { $0.hasPrefix(#"{"event":"#) }
            #expect(
                custody == [
                    #"{"event":"exported","by":"Pat Holder"}"#, #"{"event":"uploaded","by":"Pat Holder"}"#,
                    #"{"event":"downloaded","by":"DC Sam Patel"}"#, #"{"event":"collected","by":"DC Sam Patel"}"#,
                ], "\(output)")
            // The event log is not checked here: it lists an event once every transaction older than its own has
            // ended, in this cluster, which the other suites running beside this one can hold back a moment.
            #expect(output.contains("webhook received: evidence_task.created"), "\(output)")
            // The planner's proposal: in consultation with one objection, appraised, and asked "what if".
            #expect(output.contains(#"{"status":"consultation","positions":["#) && output.contains(#""object""#), "\(output)")
            #expect(output.contains(#"{"annual_saving_pence":"#) && output.contains(#""payback_years":"#), "\(output)")
            #expect(output.contains(#""overridden":true}"#), "\(output)")
            // The nightly reports of the demo's history: Westminster's figures, its turnaround as CSV, London's page.
            #expect(output.contains(#"{"report_date":""#) && output.contains(#""tasks":{"received":"#), "\(output)")
            #expect(
                output.contains("Step,Priority,Target (min),Tasks,Within target,Median (min),90th percentile (min)\r\nacknowledge,urgent,60,"),
                "\(output)")
            let page = try String(contentsOfFile: "/tmp/london.html", encoding: .utf8)
            #expect(page.hasPrefix("<!doctype html>") && page.contains("pan-London report"))
        }
    }
}
