// InFlightRequests: the FUSE requests the core is working on, so that an exit on a signal answers every one of them.
//
// FuseContext.run registers each request before its Task starts and removes it when the Task is done. At exit,
// `close` turns new requests away at once and gives the ones in flight a short grace to finish with their own
// answers; whatever is still running then (a read stuck on a slow server) is answered with an error. Nothing the
// kernel sent is left without a reply, so no caller waits on a mount that is going away.
import Dispatch
import S3FSCore

final class InFlightRequests: Sendable {
    private struct State {
        var open = true
        var requests: [ObjectIdentifier: FuseRequest] = [:]
    }

    private let state = SleepingLock(State())
    /// Entered for each registered request and left when it is done, so `close` can wait for all of them.
    private let running = DispatchGroup()

    /// Registers `request`; false once closed (the caller answers it with an error at once).
    func begin(_ request: FuseRequest) -> Bool {
        let registered = state.withLock { state in
            guard state.open else { return false }
            state.requests[ObjectIdentifier(request)] = request
            return true
        }
        if registered { running.enter() }
        return registered
    }

    /// `request` was answered (or its Task ended); each `begin` that returned true is ended exactly once.
    func end(_ request: FuseRequest) {
        state.withLock { _ = $0.requests.removeValue(forKey: ObjectIdentifier(request)) }
        running.leave()
    }

    /// Refuses new requests, waits up to `grace` for those in flight, then answers the rest with `errno` (a second
    /// answer from their Tasks is dropped by FuseRequest). Returns how many were failed.
    func close(grace: DispatchTimeInterval, failingWith errno: Int32) -> Int {
        state.withLock { $0.open = false }
        _ = running.wait(timeout: .now() + grace)
        let left = state.withLock { state in
            defer { state.requests.removeAll() }
            return Array(state.requests.values)
        }
        for request in left {
            unsafe request.reply { unsafe FuseCalls.replyError($0, errno: errno) }
        }
        return left.count
    }
}
