import Domain
import Synchronization

/// What a handler knows about the request it serves, set by `RequestIDMiddleware` for the request's task.
///
/// Generated handlers receive only their typed input, so this reaches them as a task-local value.
struct RequestInfo: Sendable {
    /// The request id, also in the `X-Request-Id` response header and on every log line.
    var requestID: String
    /// The client's IP address.
    var clientAddress: String?
    /// The `Sightline-Person` header, as sent.
    var person: String?
    /// The JSON body, once `BodyLimitMiddleware` has read and checked it.
    let body = KeptBody()

    /// The person the request names, if it names one well; custody-writing operations require one
    /// (`requiredPerson()`), and every audit row of the request names them.
    var namedPerson: NamedPerson? { person.flatMap { try? NamedPerson(header: $0) } }

    /// The person the request must name: it writes the chain of custody, which names people.
    static func requiredPerson() throws(ValidationError) -> NamedPerson {
        guard let header = current?.person else { throw missingPerson }
        return try NamedPerson(header: header)
    }

    /// What a custody operation without `Sightline-Person` is told.
    static let missingPerson = ValidationError([
        .init(
            parameter: NamedPerson.header, detail: "is required: the chain of custody names who did this, e.g. Sightline-Person: MP1234 DC Sam Patel")
    ])

    @TaskLocal static var current: RequestInfo?
}

/// A request's JSON body, kept for answering a body the decoder refuses.
final class KeptBody: Sendable {
    private let bytes = Mutex<[UInt8]?>(nil)

    func keep(_ body: [UInt8]) { bytes.withLock { $0 = body } }

    var kept: [UInt8]? { bytes.withLock { $0 } }
}
