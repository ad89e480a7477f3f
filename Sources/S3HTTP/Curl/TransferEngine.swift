// TransferEngine: every HTTP exchange of the store runs here.
//
// Design: one dedicated thread owns a libcurl multi handle and loops on `curl_multi_poll`. Async callers never
// block: `perform` parks the caller on a continuation, appends a command to a Mutex-guarded inbox and wakes the
// thread with `curl_multi_wakeup`; the thread adds the transfer, drives it, and resumes the continuation from
// `curl_multi_info_read`. Connections are cached by the multi handle and reused across requests (keep-alive),
// bounded by CURLMOPT_MAX_HOST_CONNECTIONS / MAX_TOTAL_CONNECTIONS; easy handles are pooled and reset between
// uses. Cancelling the awaiting task removes its transfer from the multi handle.

import CShims
import Foundation
import ObjectStore
import Synchronization

/// Runs HTTP requests on its own libcurl thread. Deinit stops the thread; in-flight requests then fail.
final class TransferEngine: Sendable {
    private let core: EngineCore

    init(options: TransferOptions) throws(ClientError) {
        guard let multi = CurlMulti() else {
            throw ClientError(kind: .other, detail: "libcurl failed to initialise")
        }
        multi.set(CURLMOPT_MAX_HOST_CONNECTIONS, options.maxConnections)
        multi.set(CURLMOPT_MAX_TOTAL_CONNECTIONS, options.maxConnections)
        multi.set(CURLMOPT_MAXCONNECTS, options.maxConnections)
        core = EngineCore(multi: multi)
        let thread = Thread { [core] in
            TransferLoop(core: core, options: options).run()
        }
        thread.name = "s3m-curl"
        thread.start()
    }

    deinit {
        core.send(.shutdown)
    }

    /// Connections opened so far (sum of CURLINFO_NUM_CONNECTS); stays flat while keep-alive reuse works.
    var connectionsOpened: Int { core.connectionsOpened.load(ordering: .relaxed) }

    /// Sends `request` and returns the complete response, or the transport failure.
    func perform(_ request: HTTPRequest) async -> Result<HTTPResponse, ClientError> {
        let id = core.nextID.add(1, ordering: .relaxed).newValue
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(returning: .failure(TransferLoop.cancelledError))
                } else {
                    core.send(.start(id: id, request: request, continuation: continuation))
                }
            }
        } onCancel: {
            core.send(.cancel(id: id))
        }
    }
}

/// A request's continuation: resumed exactly once, by the engine thread.
typealias TransferContinuation = CheckedContinuation<Result<HTTPResponse, ClientError>, Never>

/// What callers ask of the engine thread.
enum EngineCommand: Sendable {
    case start(id: UInt64, request: HTTPRequest, continuation: TransferContinuation)
    case cancel(id: UInt64)
    case shutdown
}

/// The state shared between callers and the engine thread.
final class EngineCore: Sendable {
    let multi: CurlMulti
    let inbox = Mutex<[EngineCommand]>([])
    let nextID = Atomic<UInt64>(0)
    let connectionsOpened = Atomic<Int>(0)

    init(multi: CurlMulti) {
        self.multi = multi
    }

    func send(_ command: EngineCommand) {
        inbox.withLock { $0.append(command) }
        multi.wakeup()
    }

    func takeCommands() -> [EngineCommand] {
        inbox.withLock { commands in
            defer { commands.removeAll(keepingCapacity: true) }
            return commands
        }
    }
}
