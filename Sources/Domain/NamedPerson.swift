import Foundation

/// The person who did something with evidence, as a continuity statement names them: a staff or collar
/// number and a name. A chain of custody is about people; the key used is recorded beside them.
///
/// Sent as the `Sightline-Person` header, the number first: `Sightline-Person: MP1234 DC Sam Patel`. A name
/// outside ASCII may be percent-encoded as UTF-8 (`Zo%C3%AB Ahmed`), as a browser's `encodeURIComponent` does.
public struct NamedPerson: Sendable, Hashable, Codable {
    /// The header that names them.
    public static let header = "Sightline-Person"

    /// Staff or collar number: 1 to 32 letters, digits, `-`, `/`, `.` or `_`.
    public var number: String
    /// Their name (with rank or role if they like): 1 to 200 characters.
    public var name: String

    /// A person from their parts; check them with `init(header:)` when they come from a client.
    public init(number: String, name: String) {
        self.number = number
        self.name = name
    }

    /// The person a `Sightline-Person` header names.
    public init(header: String) throws(ValidationError) {
        let text = header.trimmingCharacters(in: .whitespaces)
        let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let number = parts.first.map(String.init) ?? ""
        let name = parts.count == 2 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])).trimmingCharacters(in: .whitespaces) : ""
        let numberIsValid =
            (1...32).contains(number.count)
            && number.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-/._".unicodeScalars.contains($0)) }
        let nameIsValid = (1...200).contains(name.count) && !name.unicodeScalars.contains { $0.properties.generalCategory == .control }
        guard numberIsValid && nameIsValid else {
            throw ValidationError([
                .init(
                    parameter: Self.header,
                    detail: "must name who does this: a staff or collar number, a space, then the name, e.g. \"MP1234 DC Sam Patel\"")
            ])
        }
        self.init(number: number, name: name)
    }
}
