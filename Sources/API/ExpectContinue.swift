import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes

// `Expect: 100-continue` (RFC 9110 §10.1.1). curl sends it with every upload and then waits up to a second for
// `100 Continue` before sending the body; a server that never answers costs every upload that second. The
// answer is sent when the application first reads the body: a request refused on its headers alone (no key, a
// body too large, the wrong media type) is answered at once with its final status, and the client never sends
// the body it was holding back.

/// Wraps the body of a request that expects `100 Continue`, so the first read of it sends `100 Continue`.
struct ExpectContinueMiddleware: RouterMiddleware {
    typealias Context = SightlineRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.headers[.expect]?.lowercased() == "100-continue", let channel = context.channel else {
            return try await next(request, context)
        }
        var request = request
        request.body = RequestBody(asyncSequence: ContinueOnFirstRead(body: request.body, channel: channel))
        return try await next(request, context)
    }
}

/// A body that, when first read, asks the client for it with `100 Continue`.
struct ContinueOnFirstRead: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let body: RequestBody
    let channel: any Channel

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        var channel: (any Channel)?

        mutating func next() async throws -> ByteBuffer? {
            if let channel {
                self.channel = nil
                // Written through the pipeline like any response part; `ExpectContinueHandler` lets it through
                // once, and only while the request still waits for it.
                try await channel.writeAndFlush(HTTPResponsePart.head(HTTPResponse(status: .continue)))
            }
            return try await base.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: body.makeAsyncIterator(), channel: channel) }
}

/// Keeps `100 Continue` honest on one connection: sent at most once per request that asked for it, never after
/// the final response has begun; and when a final response ends before the body was asked for, the client is
/// still holding that body back, so the connection is closed after the response rather than left waiting
/// for a body that will not come.
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// No request waits for `100 Continue`.
        case idle
        /// The request asked for it and has not had it.
        case awaitingContinue
        /// It was sent, or the final response has begun.
        case answered
    }

    private var state = State.idle
    /// A final response began while the request still waited for `100 Continue`.
    private var closeAfterEnd = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let request) = unwrapInboundIn(data) {
            state = request.headerFields[.expect]?.lowercased() == "100-continue" ? .awaitingContinue : .idle
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response):
            if response.status == .continue {
                guard state == .awaitingContinue else {
                    promise?.succeed()
                    return
                }
                state = .answered
                context.write(data, promise: promise)
            } else if state == .awaitingContinue {
                response.headerFields[.connection] = "close"
                state = .idle
                closeAfterEnd = true
                context.write(wrapOutboundOut(.head(response)), promise: promise)
            } else {
                state = .idle
                context.write(data, promise: promise)
            }
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard closeAfterEnd else {
                context.write(data, promise: promise)
                return
            }
            closeAfterEnd = false
            let written = promise ?? context.eventLoop.makePromise()
            context.writeAndFlush(data, promise: written)
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.futureResult.whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }
}
