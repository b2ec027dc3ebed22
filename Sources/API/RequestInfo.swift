/// What a handler knows about the request it serves, set by `RequestIDMiddleware` for the request's task.
///
/// Generated handlers receive only their typed input, so this reaches them as a task-local value.
struct RequestInfo: Sendable {
    /// The request id, also in the `X-Request-Id` response header and on every log line.
    var requestID: String
    /// The client's IP address.
    var clientAddress: String?

    @TaskLocal static var current: RequestInfo?
}
