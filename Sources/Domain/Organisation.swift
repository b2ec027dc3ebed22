import Foundation

/// The kinds of organisation Sightline knows.
public enum OrganisationKind: String, Sendable, CaseIterable, Codable {
    /// One of the 33 London local authorities (32 boroughs and the City of London).
    case borough
    /// A police force: the Metropolitan Police, the City of London Police, British Transport Police.
    case police
    /// A transport operator such as Transport for London.
    case transport
    /// The Mayor's Office for Policing and Crime.
    case mopac
    /// A business that holds cameras.
    case business
    /// Anything else.
    case other
    /// The team that runs Sightline: the one organisation whose keys may be `admin` keys.
    case platform
}

/// An organisation that holds cameras, runs a control room or asks for footage.
public struct Organisation: Sendable, Hashable, Identifiable {
    /// The organisation's id.
    public var id: UUID
    /// What kind of body it is.
    public var kind: OrganisationKind
    /// Its name, e.g. "London Borough of Camden".
    public var name: String
    /// For a London authority, its GSS code.
    public var gssCode: GSSCode?
    /// When it was recorded.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    /// An organisation from its parts.
    public init(id: UUID, kind: OrganisationKind, name: String, gssCode: GSSCode?, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.kind = kind
        self.name = name
        self.gssCode = gssCode
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One of the 33 London local authority areas.
public struct Borough: Sendable, Hashable {
    /// The area's GSS code.
    public var gssCode: GSSCode
    /// The area's name, e.g. "Camden".
    public var name: String
    /// The local authority that governs it.
    public var organisationID: UUID

    /// A borough from its parts.
    public init(gssCode: GSSCode, name: String, organisationID: UUID) {
        self.gssCode = gssCode
        self.name = name
        self.organisationID = organisationID
    }
}

/// The ONS GSS code of a London local authority: `E09000001` (City of London) to `E09000033` (Westminster).
public struct GSSCode: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The code, e.g. `E09000033`.
    public let rawValue: String

    /// The code, if `text` is one of the 33 London authority codes.
    public init?(_ text: String) {
        guard text.count == 9, text.hasPrefix("E09"), let number = Int(text.dropFirst(3)), (1...33).contains(number),
            text.dropFirst(3).allSatisfy(\.isASCII)
        else { return nil }
        rawValue = text
    }

    public var description: String { rawValue }

    public static func < (lhs: GSSCode, rhs: GSSCode) -> Bool { lhs.rawValue < rhs.rawValue }
}
