import CLibPQ
import Logging
import NIOPosix
import ServiceLifecycle

/// Receives PostgreSQL notifications (LISTEN/NOTIFY) on a dedicated connection of its own.
///
/// Run it as a `Service`; read `notifications`. When the connection breaks, the listener reconnects with
/// back-off and listens again, then yields a `reconnected` event, because notifications sent while it was away
/// are lost and a consumer should look for work it may have missed.
public final class PostgresListener: Service, Sendable {
    /// What the listener reports.
    public enum Event: Sendable, Hashable {
        /// A notification arrived.
        case notification(PostgresNotification)
        /// The listener (re)connected and is listening; anything sent while it was away was missed.
        case listening
    }

    private let settings: PostgresConnectionSettings
    private let channels: [String]
    private let logger: Logger
    private let continuation: AsyncStream<Event>.Continuation
    /// Every notification on the channels, and a `listening` event each time the listener (re)connects.
    public let events: AsyncStream<Event>

    /// A listener for `channels`, each a lower-case SQL identifier (letters, digits, underscores).
    public init(settings: PostgresConnectionSettings, channels: [String], logger: Logger) throws {
        for channel in channels where !Self.isPlainIdentifier(channel) {
            throw PostgresError(.invalidConfiguration, reason: "channel names must be lower-case identifiers")
        }
        self.settings = settings
        self.channels = channels
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(10_000))
    }

    /// Listens until graceful shutdown or cancellation, reconnecting whenever the connection breaks.
    public func run() async throws {
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        defer {
            continuation.finish()
            threadPool.shutdownGracefully { _ in }
        }
        await cancelWhenGracefulShutdown {
            var backoff = Duration.milliseconds(100)
            while !Task.isCancelled {
                do {
                    try await self.listen(on: threadPool)
                } catch is CancellationError {
                    return
                } catch {
                    self.logger.warning("notification listener lost its connection", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
    }

    private func listen(on threadPool: NIOThreadPool) async throws {
        let settings = settings
        let connection = try await threadPool.runIfActive { try PostgresConnection.connect(settings, threadPool: threadPool) }
        for channel in channels {
            // Channel names were checked to be plain identifiers, the only text spliced into this statement.
            try await connection.query("LISTEN " + channel)
        }
        continuation.yield(.listening)
        while !Task.isCancelled {
            let notifications = try await threadPool.runIfActive { () throws -> [PostgresNotification] in
                var descriptor = pollfd(fd: connection.socket, events: Int16(POLLIN), revents: 0)
                // Wake at least every 250 ms to notice cancellation.
                guard poll(&descriptor, 1, 250) > 0 else { return [] }
                return try connection.consumeNotifications()
            }
            for notification in notifications { continuation.yield(.notification(notification)) }
        }
    }

    private static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) else { return false }
        return name.count <= 63 && name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }
}
