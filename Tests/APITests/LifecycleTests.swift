import Domain
import Foundation
import Hummingbird
import LibCurl
import LibPQ
import Logging
import ServiceLifecycle
import Storage
import Synchronization
import TestSupport
import Testing

@testable import API

@Suite("API: start-up, graceful shutdown and configuration")
struct LifecycleTests {
    @Test func gracefulShutdownLetsRequestsInFlightFinish() async throws {
        try await TestDatabase.withFresh { pool, _ in
            let router = try SightlineServer.makeRouter(
                Database(pool: pool), migrator: try Migrator(logger: TestDatabase.logger), metrics: APIMetrics(), maxBodyBytes: 1 << 20,
                rateLimit: RateLimitPolicy(perSecond: 100, burst: 100),
                evidence: EvidenceSettings(directory: FileManager.default.temporaryDirectory.path + "/sightline-lifecycle-evidence")
            )
            router.get("/test/slow") { _, _ in
                try await Task.sleep(for: .milliseconds(800))
                return "finished"
            }
            let port = Mutex<Int?>(nil)
            let app = SightlineServer.makeApplication(router: router, host: "127.0.0.1", port: 0, logger: TestDatabase.logger) { bound in
                port.withLock { $0 = bound }
            }
            let group = ServiceGroup(services: [app], logger: TestDatabase.logger)
            let client = CurlClient()
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var bound: Int?
                while bound == nil {
                    try await Task.sleep(for: .milliseconds(20))
                    bound = port.withLock { $0 }
                }
                let base = "http://127.0.0.1:\(bound!)"
                let slow = Task { try await client.execute(CurlRequest(url: base + "/test/slow")) }
                try await Task.sleep(for: .milliseconds(200))
                await group.triggerGracefulShutdown()
                let response = try await slow.value
                #expect(response.status == 200)
                #expect(String(decoding: response.body, as: UTF8.self) == "finished")
                try await tasks.waitForAll()  // The group ends without error.
                // Refused or reset, depending on how far the listener's close has got: either way, not served.
                await #expect(throws: CurlError.self) {
                    try await client.execute(CurlRequest(url: base + "/healthz"))
                }
            }
            client.shutdown()
        }
    }

    @Test func theBinaryServesAndExitsZeroOnSIGTERM() async throws {
        try await TestDatabase.withFresh { pool, url in
            let key = try await APIKeyStore(Database(pool: pool)).create(
                organisationID: TestKeys.mps, name: "t", role: .requester, covertAccess: false, expiresAt: nil, createdBy: nil,
                actor: .commandLine("test")
            ).token.text
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "sightline").path
            let port = Int.random(in: 20_000..<30_000)
            let server = try ChildProcess(
                binary, ["serve"],
                environment: ["SIGHTLINE_DATABASE_URL": url, "SIGHTLINE_HTTP_PORT": String(port), "SIGHTLINE_LOG_FORMAT": "json"]
            )
            let client = CurlClient()
            var ready: CurlResponse?
            for _ in 0..<100 where ready == nil {
                try await Task.sleep(for: .milliseconds(100))
                ready = try? await client.execute(CurlRequest(url: "http://127.0.0.1:\(port)/readyz"))
            }
            #expect(ready?.status == 200)
            let anonymous = try await client.execute(CurlRequest(url: "http://127.0.0.1:\(port)/v1/boroughs/E09000001"))
            #expect(anonymous.status == 401)
            #expect(anonymous.header("www-authenticate") == "Bearer realm=\"sightline\"")
            let borough = try await client.execute(
                CurlRequest(url: "http://127.0.0.1:\(port)/v1/boroughs/E09000001", headers: [CurlHeader("Authorization", "Bearer " + key)])
            )
            #expect(borough.status == 200)
            #expect(borough.header("x-request-id") != nil)
            client.shutdown()
            kill(server.pid, SIGTERM)
            #expect(try await server.exitStatus() == 0)
        }
    }

    @Test func theBinaryWaitsForADatabaseThatIsDownAtStartUp() async throws {
        let cluster = try TemporaryCluster()
        defer { cluster.destroy() }
        let pool = try TestDatabase.makePool(url: cluster.url, maxConnections: 1)
        try await Migrator(logger: TestDatabase.logger).migrate(Database(pool: pool))
        let key = try await APIKeyStore(Database(pool: pool)).create(
            organisationID: TestKeys.mps, name: "t", role: .requester, covertAccess: false, expiresAt: nil, createdBy: nil,
            actor: .commandLine("test")
        ).token.text
        let authorised = [CurlHeader("Authorization", "Bearer " + key)]
        await pool.close()
        try cluster.stop()

        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "sightline").path
        let port = Int.random(in: 30_000..<40_000)
        let server = try ChildProcess(binary, ["serve"], environment: ["SIGHTLINE_DATABASE_URL": cluster.url, "SIGHTLINE_HTTP_PORT": String(port)])
        let client = CurlClient()
        let base = "http://127.0.0.1:\(port)"
        var health: CurlResponse?
        for _ in 0..<100 where health == nil {
            try await Task.sleep(for: .milliseconds(100))
            health = try? await client.execute(CurlRequest(url: base + "/healthz"))
        }
        #expect(health?.status == 200)
        #expect(try await client.execute(CurlRequest(url: base + "/readyz")).status == 503)
        #expect(try await client.execute(CurlRequest(url: base + "/v1/boroughs/E09000001", headers: authorised)).status == 503)

        try cluster.start()
        var readiness = 0
        for _ in 0..<100 where readiness != 200 {
            try await Task.sleep(for: .milliseconds(200))
            readiness = (try? await client.execute(CurlRequest(url: base + "/readyz")).status) ?? 0
        }
        #expect(readiness == 200)
        #expect(try await client.execute(CurlRequest(url: base + "/v1/boroughs/E09000001", headers: authorised)).status == 200)
        client.shutdown()
        kill(server.pid, SIGTERM)
        #expect(try await server.exitStatus() == 0)
    }

    @Test func auditVerifyExitsNonZeroAfterTampering() async throws {
        try await TestDatabase.withFresh { pool, url in
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "sightline").path
            let store = AuditStore(Database(pool: pool))
            for index in 0..<5 { try await store.record(AuditEvent(action: "cli.test", outcome: .success, entityID: String(index))) }
            try await store.chainPending()
            #expect(try await ChildProcess(binary, ["audit", "verify"], environment: ["SIGHTLINE_DATABASE_URL": url]).exitStatus() == 0)
            try await pool.withTransaction { transaction in
                try await transaction.query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
                try await transaction.query("UPDATE audit_log SET entity_id = 'forged' WHERE seq = 3")
                try await transaction.query("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
            }
            let verify = try ChildProcess(binary, ["audit", "verify"], environment: ["SIGHTLINE_DATABASE_URL": url])
            #expect(try await verify.exitStatus() == 1)
            #expect(verify.output.contains("audit log broken at row 3"), "\(verify.output)")
        }
    }

    @Test func theBinaryRefusesASchemaThatIsBehind() async throws {
        try await TestDatabase.withFresh(migrated: false) { _, url in
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "sightline").path
            let server = try ChildProcess(binary, ["serve"], environment: ["SIGHTLINE_DATABASE_URL": url, "SIGHTLINE_HTTP_PORT": "0"])
            #expect(try await server.exitStatus() == 1)
            #expect(
                server.output.contains("the database schema is not usable: behind:") && server.output.contains("run `sightline migrate`"),
                "\(server.output)")
        }
    }

    @Test func aWorkerServesOnlyTheOperationalEndpointsAndRunsTheJobs() async throws {
        try await TestDatabase.withFresh { _, url in
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "sightline").path
            let port = Int.random(in: 40_000..<50_000)
            // Settings by flag, both forms, for the one setting that has no other way in here.
            let worker = try ChildProcess(
                binary, ["worker", "--http-port", String(port), "--log-format=json"],
                environment: [
                    "SIGHTLINE_DATABASE_URL": url, "SIGHTLINE_EVIDENCE_DIR": FileManager.default.temporaryDirectory.path + "/sightline-worker",
                ]
            )
            let client = CurlClient()
            let base = "http://127.0.0.1:\(port)"
            var ready: CurlResponse?
            for _ in 0..<100 where ready?.status != 200 {
                try await Task.sleep(for: .milliseconds(100))
                ready = try? await client.execute(CurlRequest(url: base + "/readyz"))
            }
            #expect(ready?.status == 200)
            #expect(try await client.execute(CurlRequest(url: base + "/healthz")).status == 200)
            #expect(try await client.execute(CurlRequest(url: base + "/v1/boroughs/E09000001")).status == 404)
            // The audit chainer runs four times a second: its runs are counted.
            var metrics = ""
            for _ in 0..<100
            where !metrics.contains(#"sightline_job_runs_total{job="audit-chain"} "#)
                || metrics.contains(#"sightline_job_runs_total{job="audit-chain"} 0"#)
            {
                try await Task.sleep(for: .milliseconds(100))
                metrics = String(decoding: try await client.execute(CurlRequest(url: base + "/metrics")).body, as: UTF8.self)
            }
            for job in ["audit-chain", "idempotency-purge", "evidence-alerts", "evidence-purge", "event-retention", "webhook-lease-reaper"] {
                #expect(metrics.contains(#"sightline_job_failures_total{job="\#(job)"} 0"#), "\(job)")
            }
            #expect(!metrics.contains(#"sightline_job_runs_total{job="audit-chain"} 0"#))
            client.shutdown()
            kill(worker.pid, SIGTERM)
            #expect(try await worker.exitStatus() == 0)
            #expect(worker.output.contains(#""role":"worker""#), "\(worker.output)")
        }
    }

    @Test func everySettingHasAFlagTakenFromTheCommandLine() throws {
        for setting in ServerConfiguration.settings {
            let separate = try ServerConfiguration.takeFlags(from: ["keys", setting.flag, "v1", "--org", "MPS"])
            #expect(separate.flags == [setting.name: "v1"] && separate.rest == ["keys", "--org", "MPS"], "\(setting.flag)")
            let joined = try ServerConfiguration.takeFlags(from: [setting.flag + "=a=b"])
            #expect(joined.flags == [setting.name: "a=b"] && joined.rest.isEmpty, "\(setting.flag)")
        }
        // An empty value is a value: it does not take the next argument.
        let empty = try ServerConfiguration.takeFlags(from: ["--log-level=", "serve"])
        #expect(empty.flags == ["LOG_LEVEL": ""] && empty.rest == ["serve"])
        // Nothing after `--` is a setting; an unknown flag is left for the command to refuse.
        let rest = try ServerConfiguration.takeFlags(from: ["--", "--http-port", "1", "--frobnicate"])
        #expect(rest.flags.isEmpty && rest.rest == ["--", "--http-port", "1", "--frobnicate"])
        let error = try #require(throws: ConfigurationError.self) { try ServerConfiguration.takeFlags(from: ["serve", "--webhook-timeout"]) }
        #expect(
            error.problems == [
                "--webhook-timeout needs a value: seconds a webhook attempt may take in all (a delivery's lease is twice this and a second)"
            ])
    }

    @Test func theOperationsGuideListsEverySettingAsTheTableDefinesIt() throws {
        let guide = try String(contentsOf: repositoryRoot.appending(path: "docs/operations.md"), encoding: .utf8)
        let begin = try #require(guide.range(of: "<!-- settings: generated by `sightline settings` -->\n"))
        let end = try #require(guide.range(of: "<!-- settings: end -->", range: begin.upperBound..<guide.endIndex))
        #expect(String(guide[begin.upperBound..<end.lowerBound]) == ServerConfiguration.markdownTable)
    }

    @Test func configurationIsValidatedAndNamesEachBadSetting() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try ServerConfiguration(
                flags: ["HTTP_PORT": "99999"],
                environment: ["SIGHTLINE_LOG_LEVEL": "loud", "SIGHTLINE_DB_POOL_SIZE": "0", "SIGHTLINE_LOG_FORMAT": "xml"]
            )
        }
        #expect(error.problems.count == 5)
        for name in ["SIGHTLINE_DATABASE_URL", "SIGHTLINE_HTTP_PORT", "SIGHTLINE_LOG_LEVEL", "SIGHTLINE_DB_POOL_SIZE", "SIGHTLINE_LOG_FORMAT"] {
            #expect(error.problems.contains { $0.hasPrefix(name) }, "\(name)")
        }
    }

    @Test func theReportsScheduleIsValidatedAndRead() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try ServerConfiguration(
                flags: ["REPORTS_TIME": "2am"],
                environment: [
                    "SIGHTLINE_DATABASE_URL": "postgresql:///x", "SIGHTLINE_REPORTS_TIME_ZONE": "Europe/Atlantis",
                    "SIGHTLINE_REPORTS_CATCH_UP_NIGHTS": "0",
                ])
        }
        #expect(error.problems.count == 3)
        for name in ["SIGHTLINE_REPORTS_TIME ", "SIGHTLINE_REPORTS_TIME_ZONE", "SIGHTLINE_REPORTS_CATCH_UP_NIGHTS"] {
            #expect(error.problems.contains { $0.hasPrefix(name) }, "\(name)")
        }
        let configuration = try ServerConfiguration(
            flags: ["REPORTS_TIME": "01:30"],
            environment: [
                "SIGHTLINE_DATABASE_URL": "postgresql:///x", "SIGHTLINE_REPORTS_TIME_ZONE": "Europe/Dublin", "SIGHTLINE_REPORTS_CATCH_UP_NIGHTS": "3",
            ])
        #expect(configuration.reports.hour == 1 && configuration.reports.minute == 30 && configuration.reports.catchUpNights == 3)
        #expect(configuration.reports.timeZone.identifier == "Europe/Dublin")
        #expect(try ServerConfiguration(flags: [:], environment: ["SIGHTLINE_DATABASE_URL": "postgresql:///x"]).reports == .london)
    }

    @Test func flagsOverrideTheEnvironmentWhichOverridesDefaults() throws {
        let configuration = try ServerConfiguration(
            flags: ["HTTP_PORT": "9001"],
            environment: ["SIGHTLINE_DATABASE_URL_FILE": "/run/secrets/db", "SIGHTLINE_HTTP_PORT": "9000", "SIGHTLINE_LOG_LEVEL": "debug"],
            readFile: { path in
                #expect(path == "/run/secrets/db")
                return "postgresql:///from-file\n"
            }
        )
        #expect(configuration.httpPort == 9001)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.databaseURL == "postgresql:///from-file")
        #expect(configuration.httpHost == "127.0.0.1")
        #expect(configuration.maxBodyBytes == 1_048_576)
    }

    @Test func aSecretFileThatCannotBeReadIsNamedButNotQuoted() throws {
        struct Unreadable: Error {}
        let error = try #require(throws: ConfigurationError.self) {
            try ServerConfiguration(flags: [:], environment: ["SIGHTLINE_DATABASE_URL_FILE": "/missing"], readFile: { _ in throw Unreadable() })
        }
        #expect(error.problems.contains { $0.hasPrefix("SIGHTLINE_DATABASE_URL_FILE") })
    }
}
