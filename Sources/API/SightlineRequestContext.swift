import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core, plus the client's address for the audit log.
public struct SightlineRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address, as the connection saw it (a proxy's, behind one).
    public let clientAddress: String?
    /// The connection the request came on, for `100 Continue` (`ExpectContinueMiddleware`).
    let channel: (any Channel)?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress
        channel = source.channel
    }
}
