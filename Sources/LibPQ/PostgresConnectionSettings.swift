import CLibPQ

/// Where and how to connect: a PostgreSQL URL (`postgresql://user@host/db?sslmode=require`) or a `key=value`
/// connection string, validated once, plus the defaults this client adds.
public struct PostgresConnectionSettings: Sendable {
    let keywords: [String]
    let values: [String]
    private let secrets: [String]

    /// Parses `connectionString`; a malformed one throws an `invalidConfiguration` error that does not quote it.
    ///
    /// - Parameters:
    ///   - connectTimeoutSeconds: how long one connection attempt may take (libpq's `connect_timeout`), unless the
    ///     string sets its own.
    ///   - applicationName: shown in `pg_stat_activity`, unless the string sets its own.
    public init(_ connectionString: String, connectTimeoutSeconds: Int = 5, applicationName: String = "sightline") throws {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &error) else {
            if let error { PQfreemem(error) }
            throw PostgresError(.invalidConfiguration, reason: "the connection string could not be parsed")
        }
        defer { PQconninfoFree(options) }
        var secrets: [String] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val {
                secrets.append(String(cString: value))
            }
            option += 1
        }
        self.secrets = secrets.filter { !$0.isEmpty }
        // Ours come first so that the connection string, expanded from "dbname", overrides them.
        keywords = ["connect_timeout", "application_name", "options", "dbname"]
        values = [String(connectTimeoutSeconds), applicationName, "-c TimeZone=UTC", connectionString]
    }

    /// `message` with any password from the connection string removed.
    func redact(_ message: String) -> String {
        secrets.reduce(message) { $0.replacingOccurrences(of: $1, with: "***") }
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        return components(separatedBy: target).joined(separator: replacement)
    }
}
