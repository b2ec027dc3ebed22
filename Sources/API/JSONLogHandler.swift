import Domain
import Foundation
import Logging

/// Writes each log record as one JSON object on a line of standard error: `time`, `level`, `label`,
/// `message` and the metadata's keys.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String

    /// A handler for loggers named `label`.
    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("time", Self.timestamp()), ("level", event.level.rawValue), ("label", label), ("message", "\(event.message)"),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { fields.append((key, "\(value)")) }
        let line = "{" + fields.map { "\(Self.quote($0)):\(Self.quote($1))" }.joined(separator: ",") + "}\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// `text` as a JSON string literal.
    static func quote(_ text: String) -> String { JSONText.quoted(text) }

    private static func timestamp() -> String {
        // The system's time, not the injected clock: a log line says when it was written, even in a test that
        // has moved the business clock days ahead.
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date())
    }
}
