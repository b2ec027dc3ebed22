import CCurl
import Foundation
import Synchronization

/// Runs many HTTP transfers at once through one libcurl multi handle, driven by one dedicated thread.
///
/// `execute` may be called from any task; the transfer itself runs on the client's thread, so no libcurl
/// call ever blocks a Swift executor. Call `shutdown()` when done: transfers still running fail with
/// `CurlError.Code.shutdown`.
public final class CurlClient: Sendable {
    private struct Inbox {
        var added: [CurlTransfer] = []
        var cancelled: [ObjectIdentifier] = []
        var stopping = false
        var stopped = false
    }

    /// What the caller's tasks and the client's thread share.
    private final class Shared: Sendable {
        let inbox = Mutex(Inbox())
        let multi = MultiHandle()
    }

    private let shared = Shared()
    private var multi: MultiHandle { shared.multi }

    /// A client whose thread starts at once.
    public init() {
        _ = curlGlobalInitialisation
        let shared = shared
        let thread = Thread { CurlClient.runLoop(shared) }
        thread.name = "sightline-curl"
        thread.start()
    }

    /// Performs `request` and returns the response, whatever its status; throws `CurlError` if no response came.
    public func execute(_ request: CurlRequest) async throws -> CurlResponse {
        let transfer = try CurlTransfer(request)
        let id = ObjectIdentifier(transfer)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                let accepted = shared.inbox.withLock { inbox in
                    guard !inbox.stopping else { return false }
                    inbox.added.append(transfer)
                    return true
                }
                if accepted {
                    multi.wakeUp()
                } else {
                    continuation.resume(throwing: CurlError(code: .shutdown, curlCode: nil, message: "the HTTP client is shut down"))
                }
            }
        } onCancel: {
            shared.inbox.withLock { $0.cancelled.append(id) }
            multi.wakeUp()
        }
    }

    /// Stops the thread, failing transfers still running; returns once the thread has finished.
    public func shutdown() {
        shared.inbox.withLock { $0.stopping = true }
        multi.wakeUp()
        while !shared.inbox.withLock({ $0.stopped }) { usleep(1000) }
    }

    private static func runLoop(_ shared: Shared) {
        let multi = shared.multi
        var active: [ObjectIdentifier: CurlTransfer] = [:]
        while true {
            let (added, cancelled, stopping) = shared.inbox.withLock { inbox in
                defer {
                    inbox.added = []
                    inbox.cancelled = []
                }
                return (inbox.added, inbox.cancelled, inbox.stopping)
            }
            for transfer in added {
                let code = curl_multi_add_handle(multi.handle, transfer.handle)
                if code == CURLM_OK {
                    active[ObjectIdentifier(transfer)] = transfer
                } else {
                    let message = String(cString: curl_multi_strerror(code))
                    finish(transfer, with: .failure(CurlError(code: .other, curlCode: nil, message: message)))
                }
            }
            for id in cancelled {
                guard let transfer = active.removeValue(forKey: id) else { continue }
                curl_multi_remove_handle(multi.handle, transfer.handle)
                finish(transfer, with: .failure(CancellationError()))
            }
            if stopping {
                for transfer in active.values {
                    curl_multi_remove_handle(multi.handle, transfer.handle)
                    finish(transfer, with: .failure(CurlError(code: .shutdown, curlCode: nil, message: "the HTTP client shut down")))
                }
                let late = shared.inbox.withLock { inbox in
                    defer { inbox.added = [] }
                    return inbox.added
                }
                for transfer in late {
                    finish(transfer, with: .failure(CurlError(code: .shutdown, curlCode: nil, message: "the HTTP client shut down")))
                }
                shared.inbox.withLock { $0.stopped = true }
                return
            }

            var running: Int32 = 0
            curl_multi_perform(multi.handle, &running)
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi.handle, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let result = message.pointee.data.result
                var context: UnsafeMutableRawPointer?
                _ = sl_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &context)
                curl_multi_remove_handle(multi.handle, easy)
                guard let context else { continue }
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
                active.removeValue(forKey: ObjectIdentifier(transfer))
                // A body cut at the cap ends the transfer with a write error, but the response is complete enough.
                if result == CURLE_OK || (result == CURLE_WRITE_ERROR && transfer.bodyTruncated) {
                    finish(transfer, with: .success(transfer.response()))
                } else {
                    finish(transfer, with: .failure(transfer.error(for: result)))
                }
            }
            // Sleeps until a socket is ready, a timer is due, or `wakeUp()` is called.
            curl_multi_poll(multi.handle, nil, 0, 1000, nil)
        }
    }

    private static func finish(_ transfer: CurlTransfer, with result: Result<CurlResponse, any Error>) {
        let continuation = transfer.continuation
        transfer.continuation = nil
        continuation?.resume(with: result)
    }
}

/// Owns the multi handle. `curl_multi_wakeup` is the one call libcurl allows from other threads.
private final class MultiHandle: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    init() {
        handle = curl_multi_init()
        _ = sl_multi_setopt_long(handle, CURLMOPT_MAX_HOST_CONNECTIONS, 0)
    }

    func wakeUp() { curl_multi_wakeup(handle) }

    deinit { curl_multi_cleanup(handle) }
}
