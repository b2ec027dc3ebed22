import Domain
import Foundation
import Logging
import Webhooks

/// The server's settings, each from a command-line flag, else the environment (`SIGHTLINE_…`, or for secrets a
/// file named by `SIGHTLINE_…_FILE`), else its default, validated at start-up.
public struct ServerConfiguration: Sendable {
    /// The PostgreSQL URL or connection string.
    public var databaseURL: String
    /// The address to listen on.
    public var httpHost: String
    /// The port to listen on; 0 picks a free one.
    public var httpPort: Int
    /// The least severe log level written.
    public var logLevel: Logger.Level
    /// How log lines are written.
    public var logFormat: LogFormat
    /// The most database connections open at once.
    public var databasePoolSize: Int
    /// How long a request waits for a database connection.
    public var databaseAcquireTimeout: Duration
    /// The largest JSON request body accepted.
    public var maxBodyBytes: Int
    /// Each API key's allowance on this instance.
    public var rateLimit: RateLimitPolicy
    /// Each client address's allowance of failed authentications on this instance.
    public var authFailureLimit: RateLimitPolicy
    /// Where evidence content is kept, the deadlines of tasks and when collected content is purged.
    public var evidence: EvidenceSettings
    /// How webhooks are sent: the address policy, timeouts, concurrency, retries and retention.
    public var webhooks: WebhookSettings
    /// When the nightly reports are built: the time of day, its zone and how many missed nights are caught up.
    public var reports: ReportSchedule

    /// How log lines are written.
    public enum LogFormat: String, Sendable {
        /// One JSON object per line.
        case json
        /// Human-readable lines.
        case text
    }

    /// One setting: its name (`HTTP_PORT`, read from `--http-port` and `SIGHTLINE_HTTP_PORT`), default and meaning.
    public struct Setting: Sendable {
        /// The name after `SIGHTLINE_`.
        public let name: String
        /// The default, or `nil` when the setting is required.
        public let defaultValue: String?
        /// Whether `SIGHTLINE_<name>_FILE` may name a file holding the value.
        public let isSecret: Bool
        /// What it controls.
        public let summary: String

        /// The environment variable.
        public var environmentVariable: String { "SIGHTLINE_" + name }
        /// The command-line flag.
        public var flag: String { "--" + name.lowercased().replacingOccurrences(of: "_", with: "-") }
    }

    /// Every setting, in the order the README lists them.
    public static let settings: [Setting] = [
        Setting(name: "DATABASE_URL", defaultValue: nil, isSecret: true, summary: "PostgreSQL URL or connection string"),
        Setting(name: "HTTP_HOST", defaultValue: "127.0.0.1", isSecret: false, summary: "address to listen on"),
        Setting(name: "HTTP_PORT", defaultValue: "8080", isSecret: false, summary: "port to listen on (0 picks a free port)"),
        Setting(name: "LOG_LEVEL", defaultValue: "info", isSecret: false, summary: "trace, debug, info, notice, warning, error or critical"),
        Setting(name: "LOG_FORMAT", defaultValue: "json", isSecret: false, summary: "json (one object per line) or text (make run uses text)"),
        Setting(name: "DB_POOL_SIZE", defaultValue: "10", isSecret: false, summary: "most database connections open at once (1–200)"),
        Setting(name: "DB_ACQUIRE_TIMEOUT", defaultValue: "5", isSecret: false, summary: "seconds a request waits for a database connection"),
        Setting(name: "MAX_BODY_BYTES", defaultValue: "1048576", isSecret: false, summary: "largest JSON request body accepted, in bytes"),
        Setting(
            name: "RATE_LIMIT_PER_SECOND", defaultValue: "50", isSecret: false,
            summary: "requests per second each API key may sustain, on each instance"),
        Setting(name: "RATE_LIMIT_BURST", defaultValue: "200", isSecret: false, summary: "requests each API key may make at once"),
        Setting(
            name: "AUTH_FAILURE_BURST", defaultValue: "20", isSecret: false,
            summary: "failed authentications a client address may make at once before it is answered 429, unaudited"
        ),
        Setting(
            name: "AUTH_FAILURES_PER_MINUTE", defaultValue: "20", isSecret: false,
            summary: "failed authentications a client address may sustain each minute beyond the burst"
        ),
        Setting(
            name: "EVIDENCE_DIR", defaultValue: ".data/evidence", isSecret: false,
            summary: "directory for uploaded evidence files (created owner-only)"),
        Setting(
            name: "EVIDENCE_PURGE_DAYS", defaultValue: "30", isSecret: false,
            summary: "days after collection that stored content is purged (metadata, hash and custody stay)"),
        Setting(
            name: "EVIDENCE_MAX_HOLD_DAYS", defaultValue: "90", isSecret: false,
            summary: "days after a request's window that a preservation hold may reach at most"),
        Setting(
            name: "SERVICE_AREA_MARGIN_M", defaultValue: "10000", isSecret: false,
            summary: "metres beyond London's boundary an evidence request's location may lie"),
        Setting(name: "SLA_URGENT_ACK_MINUTES", defaultValue: "60", isSecret: false, summary: "minutes an urgent task has to be acknowledged"),
        Setting(name: "SLA_URGENT_EXPORT_MINUTES", defaultValue: "1440", isSecret: false, summary: "minutes an urgent task has to be exported"),
        Setting(name: "SLA_STANDARD_ACK_MINUTES", defaultValue: "1440", isSecret: false, summary: "minutes a standard task has to be acknowledged"),
        Setting(name: "SLA_STANDARD_EXPORT_MINUTES", defaultValue: "10080", isSecret: false, summary: "minutes a standard task has to be exported"),
        Setting(
            name: "WEBHOOK_ALLOW_CIDRS", defaultValue: "", isSecret: false,
            summary: "comma-separated address blocks webhooks may reach although not public, over HTTP too (e.g. 127.0.0.0/8)"
        ),
        Setting(name: "WEBHOOK_CONNECT_TIMEOUT", defaultValue: "5", isSecret: false, summary: "seconds a webhook may take to connect"),
        Setting(
            name: "WEBHOOK_TIMEOUT", defaultValue: "15", isSecret: false,
            summary: "seconds a webhook attempt may take in all (a delivery's lease is twice this and a second)"),
        Setting(name: "WEBHOOK_CONCURRENCY", defaultValue: "64", isSecret: false, summary: "webhook deliveries in flight at once per instance"),
        Setting(name: "WEBHOOK_PER_ENDPOINT", defaultValue: "8", isSecret: false, summary: "webhook deliveries in flight at once to one endpoint"),
        Setting(
            name: "WEBHOOK_RETRY_SECONDS", defaultValue: "5,300,1800,7200,18000,36000,50400,72000,86400", isSecret: false,
            summary: "waits after each failed webhook attempt, in seconds (each ±10 %)"
        ),
        Setting(
            name: "WEBHOOK_DISABLE_AFTER_HOURS", defaultValue: "120", isSecret: false, summary: "hours of failure after which an endpoint is disabled"
        ),
        Setting(name: "WEBHOOK_ROTATION_HOURS", defaultValue: "24", isSecret: false, summary: "hours a rotated-out webhook secret goes on signing"),
        Setting(name: "EVENT_RETENTION_DAYS", defaultValue: "90", isSecret: false, summary: "days events and their deliveries are kept"),
        Setting(name: "REPORTS_TIME", defaultValue: "02:00", isSecret: false, summary: "local time (HH:MM) each night's reports are built"),
        Setting(
            name: "REPORTS_TIME_ZONE", defaultValue: "Europe/London", isSecret: false,
            summary: "the IANA time zone whose calendar days the reports cover and whose clock REPORTS_TIME reads"),
        Setting(
            name: "REPORTS_CATCH_UP_NIGHTS", defaultValue: "7", isSecret: false,
            summary: "nights (the latest included) the reports job builds when it finds nights missed"),
    ]

    /// Resolves and validates every setting.
    ///
    /// - Parameters:
    ///   - flags: values given on the command line, by setting name (`HTTP_PORT`).
    ///   - environment: the process environment.
    ///   - readFile: reads a `…_FILE` secret.
    public init(
        flags: [String: String],
        environment: [String: String],
        readFile: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) throws(ConfigurationError) {
        var problems: [String] = []
        func value(_ name: String) -> String? {
            guard let setting = Self.settings.first(where: { $0.name == name }) else { return nil }
            if let flag = flags[name] { return flag }
            if let env = environment[setting.environmentVariable] { return env }
            if setting.isSecret, let path = environment[setting.environmentVariable + "_FILE"] {
                do {
                    return try readFile(path).trimmingCharacters(in: .whitespacesAndNewlines)
                } catch {
                    problems.append("\(setting.environmentVariable)_FILE: cannot read \(path)")
                    return nil
                }
            }
            return setting.defaultValue
        }
        func integer(_ name: String, in range: ClosedRange<Int>, _ meaning: String) -> Int {
            let text = value(name) ?? ""
            guard let number = Int(text), range.contains(number) else {
                problems.append("SIGHTLINE_\(name) must be \(meaning) from \(range.lowerBound) to \(range.upperBound), not \"\(text.prefix(40))\"")
                return range.lowerBound
            }
            return number
        }

        let url = value("DATABASE_URL") ?? ""
        if url.isEmpty { problems.append("SIGHTLINE_DATABASE_URL (or --database-url) is required: the PostgreSQL URL to use") }
        databaseURL = url
        httpHost = value("HTTP_HOST") ?? ""
        if httpHost.isEmpty { problems.append("SIGHTLINE_HTTP_HOST must not be empty") }
        httpPort = integer("HTTP_PORT", in: 0...65535, "a port number")
        let level = value("LOG_LEVEL") ?? ""
        logLevel = Logger.Level(rawValue: level) ?? .info
        if Logger.Level(rawValue: level) == nil {
            problems.append(
                "SIGHTLINE_LOG_LEVEL must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(level.prefix(20))\"")
        }
        let format = value("LOG_FORMAT") ?? ""
        logFormat = LogFormat(rawValue: format) ?? .json
        if LogFormat(rawValue: format) == nil { problems.append("SIGHTLINE_LOG_FORMAT must be json or text, not \"\(format.prefix(20))\"") }
        databasePoolSize = integer("DB_POOL_SIZE", in: 1...200, "a whole number")
        databaseAcquireTimeout = .seconds(integer("DB_ACQUIRE_TIMEOUT", in: 1...300, "a number of seconds"))
        maxBodyBytes = integer("MAX_BODY_BYTES", in: 1024...(64 << 20), "a number of bytes")
        rateLimit = RateLimitPolicy(
            perSecond: Double(integer("RATE_LIMIT_PER_SECOND", in: 1...1_000_000, "a number of requests")),
            burst: integer("RATE_LIMIT_BURST", in: 1...1_000_000, "a number of requests")
        )
        authFailureLimit = RateLimitPolicy(
            perSecond: Double(integer("AUTH_FAILURES_PER_MINUTE", in: 1...6_000_000, "a number of failures")) / 60,
            burst: integer("AUTH_FAILURE_BURST", in: 1...1_000_000, "a number of failures")
        )
        let evidenceDirectory = value("EVIDENCE_DIR") ?? ""
        if evidenceDirectory.isEmpty { problems.append("SIGHTLINE_EVIDENCE_DIR must not be empty") }
        func minutes(_ name: String) -> Duration { .seconds(60 * integer(name, in: 1...525_600, "a number of minutes")) }
        evidence = EvidenceSettings(
            directory: evidenceDirectory,
            sla: EvidenceSLA(
                acknowledge: [.urgent: minutes("SLA_URGENT_ACK_MINUTES"), .standard: minutes("SLA_STANDARD_ACK_MINUTES")],
                export: [.urgent: minutes("SLA_URGENT_EXPORT_MINUTES"), .standard: minutes("SLA_STANDARD_EXPORT_MINUTES")]
            ),
            purgeAfter: .seconds(86_400 * integer("EVIDENCE_PURGE_DAYS", in: 1...3650, "a number of days")),
            hold: HoldPolicy(maximumAfterWindow: TimeInterval(86_400 * integer("EVIDENCE_MAX_HOLD_DAYS", in: 1...3650, "a number of days"))),
            serviceAreaMarginMetres: Double(integer("SERVICE_AREA_MARGIN_M", in: 0...200_000, "a number of metres"))
        )
        var allowed: [AddressBlock] = []
        for block in (value("WEBHOOK_ALLOW_CIDRS") ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !block.isEmpty
        {
            if let parsed = AddressBlock(block) {
                allowed.append(parsed)
            } else {
                problems.append("SIGHTLINE_WEBHOOK_ALLOW_CIDRS: \"\(block.prefix(50))\" is not an address block")
            }
        }
        let retryText = value("WEBHOOK_RETRY_SECONDS") ?? ""
        let retries = retryText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter {
            (1...604_800).contains($0)
        }
        if retries.isEmpty || retries.count != retryText.split(separator: ",").count || retries.count > 20 {
            problems.append(
                "SIGHTLINE_WEBHOOK_RETRY_SECONDS must be 1 to 20 comma-separated waits of 1 to 604800 seconds, not \"\(retryText.prefix(80))\"")
        }
        var schedule = WebhookRetrySchedule.standard
        schedule.delays = retries.map { .seconds($0) }
        var breaker = WebhookCircuitBreaker.standard
        breaker.disableAfter = .seconds(3600 * integer("WEBHOOK_DISABLE_AFTER_HOURS", in: 1...8760, "a number of hours"))
        webhooks = WebhookSettings(
            policy: WebhookAddressPolicy(allowed: allowed),
            connectTimeout: .seconds(integer("WEBHOOK_CONNECT_TIMEOUT", in: 1...60, "a number of seconds")),
            timeout: .seconds(integer("WEBHOOK_TIMEOUT", in: 1...300, "a number of seconds")),
            concurrency: integer("WEBHOOK_CONCURRENCY", in: 1...1024, "a whole number"),
            perEndpoint: integer("WEBHOOK_PER_ENDPOINT", in: 1...256, "a whole number"),
            schedule: schedule, breaker: breaker,
            retention: .seconds(86_400 * integer("EVENT_RETENTION_DAYS", in: 1...3650, "a number of days")),
            rotationOverlap: .seconds(3600 * integer("WEBHOOK_ROTATION_HOURS", in: 1...720, "a number of hours"))
        )
        let time = value("REPORTS_TIME") ?? ""
        let zoneName = value("REPORTS_TIME_ZONE") ?? ""
        let zone = TimeZone(identifier: zoneName)
        if ReportSchedule.timeOfDay(time) == nil { problems.append("SIGHTLINE_REPORTS_TIME must be a time HH:MM, not \"\(time.prefix(20))\"") }
        if zone == nil {
            problems.append("SIGHTLINE_REPORTS_TIME_ZONE must be an IANA time zone such as Europe/London, not \"\(zoneName.prefix(40))\"")
        }
        let (hour, minute) = ReportSchedule.timeOfDay(time) ?? (2, 0)
        reports =
            ReportSchedule(
                timeZone: zone ?? ReportSchedule.london.timeZone, hour: hour, minute: minute,
                catchUpNights: integer("REPORTS_CATCH_UP_NIGHTS", in: 1...31, "a number of nights")) ?? .london
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
    }
}

extension ServerConfiguration {
    /// Takes the settings' flags out of command-line `arguments` (`--http-port 8081` or `--http-port=8081`, one for
    /// every setting of the table, so no setting lacks its flag) and returns their values by setting name with the
    /// arguments left for the commands. Nothing after `--` is taken. A flag without a value is an error.
    public static func takeFlags(from arguments: [String]) throws(ConfigurationError) -> (flags: [String: String], rest: [String]) {
        let byFlag = Dictionary(uniqueKeysWithValues: settings.map { ($0.flag, $0) })
        var flags: [String: String] = [:]
        var rest: [String] = []
        var problems: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                rest += arguments[(index - 1)...]
                break
            }
            let equals = argument.firstIndex(of: "=")
            let name = equals.map { String(argument[..<$0]) } ?? argument
            let inline = equals.map { String(argument[argument.index(after: $0)...]) }
            guard let setting = byFlag[name] else {
                rest.append(argument)
                continue
            }
            if let inline {
                flags[setting.name] = inline
            } else if index < arguments.endIndex {
                flags[setting.name] = arguments[index]
                index += 1
            } else {
                problems.append("\(setting.flag) needs a value: \(setting.summary)")
            }
        }
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        return (flags, rest)
    }

    /// The settings as a Markdown table, the one in `docs/operations.md` (a test checks the two agree).
    public static var markdownTable: String {
        var lines = ["| variable | flag | default | meaning |", "|---|---|---|---|"]
        for setting in settings {
            let value = setting.defaultValue.map { $0.isEmpty ? "(none)" : "`" + $0 + "`" } ?? "— (required)"
            let meaning = setting.summary + (setting.isSecret ? "; or from the file named by `" + setting.environmentVariable + "_FILE`" : "")
            lines.append("| `\(setting.environmentVariable)` | `\(setting.flag)` | \(value) | \(meaning) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The settings as `--help` lists them.
    public static var helpText: String {
        "Settings (each flag overrides its environment variable, which overrides the default):\n"
            + settings.map { setting in
                "  \(setting.flag) <value>\n      \(setting.environmentVariable), default "
                    + (setting.defaultValue.map { $0.isEmpty ? "none" : $0 } ?? "none (required)") + ": " + setting.summary
            }.joined(separator: "\n")
    }
}

/// Settings that are missing or invalid; each problem names its setting and never quotes a secret.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// One sentence per problem.
    public let problems: [String]

    public var description: String { "invalid configuration:\n" + problems.map { "  - " + $0 }.joined(separator: "\n") }
}
