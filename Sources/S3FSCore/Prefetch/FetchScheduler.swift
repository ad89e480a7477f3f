// FetchScheduler: how many GETs run at once, and in what order they start.
//
// At most `maxConcurrent` GETs run; prefetch may hold at most `maxConcurrent - demandReserve` of them, so a demand
// read (a process is waiting) always finds a free slot or is next in line, never queued behind read-ahead. Waiting
// demand requests start before waiting prefetch requests, and a queued prefetch that a reader starts waiting for
// is promoted to demand. A request cancelled while queued leaves the queue without running.
import Synchronization

final class FetchScheduler: Sendable {
    enum Priority: Sendable { case demand, prefetch }

    private struct Waiting {
        let id: UInt64
        var priority: Priority
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var running: [UInt64: Priority] = [:]
        var runningPrefetch = 0
        var queue: [Waiting] = []
        var cancelledBeforeQueued: Set<UInt64> = []
        var nextID: UInt64 = 1
    }

    let maxConcurrent: Int
    let maxPrefetch: Int
    private let state = Mutex(State())

    init(maxConcurrent: Int) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxPrefetch = max(1, self.maxConcurrent - max(1, self.maxConcurrent / 4))
    }

    func makeTicket() -> UInt64 {
        state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    /// Waits for a slot; false when the task was cancelled first. Every true must be paired with `release`.
    func acquire(_ id: UInt64, priority: Priority) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let granted: Bool? = state.withLock { state in
                    if state.cancelledBeforeQueued.remove(id) != nil { return false }
                    if Self.canStart(priority, state, limit: maxConcurrent, prefetchLimit: maxPrefetch) {
                        Self.start(id, priority, &state)
                        return true
                    }
                    state.queue.append(Waiting(id: id, priority: priority, continuation: continuation))
                    return nil
                }
                if let granted { continuation.resume(returning: granted) }
            }
        } onCancel: {
            let removed: Waiting? = state.withLock { state in
                if let index = state.queue.firstIndex(where: { $0.id == id }) { return state.queue.remove(at: index) }
                if state.running[id] == nil { state.cancelledBeforeQueued.insert(id) }
                return nil
            }
            removed?.continuation.resume(returning: false)
        }
    }

    func release(_ id: UInt64) {
        let started = state.withLock { state -> [Waiting] in
            if state.running.removeValue(forKey: id) == .prefetch { state.runningPrefetch -= 1 }
            return dispatch(&state)
        }
        for waiting in started { waiting.continuation.resume(returning: true) }
    }

    /// A reader now waits for request `id`: if it is still queued, it starts as a demand request.
    func promote(_ id: UInt64) {
        let started = state.withLock { state -> [Waiting] in
            guard let index = state.queue.firstIndex(where: { $0.id == id }) else { return [] }
            state.queue[index].priority = .demand
            return dispatch(&state)
        }
        for waiting in started { waiting.continuation.resume(returning: true) }
    }

    var runningCount: Int { state.withLock { $0.running.count } }

    private func dispatch(_ state: inout State) -> [Waiting] {
        var started: [Waiting] = []
        for priority in [Priority.demand, .prefetch] {
            while Self.canStart(priority, state, limit: maxConcurrent, prefetchLimit: maxPrefetch),
                let index = state.queue.firstIndex(where: { $0.priority == priority })
            {
                let waiting = state.queue.remove(at: index)
                Self.start(waiting.id, priority, &state)
                started.append(waiting)
            }
        }
        return started
    }

    private static func canStart(_ priority: Priority, _ state: State, limit: Int, prefetchLimit: Int) -> Bool {
        guard state.running.count < limit else { return false }
        return priority == .demand || state.runningPrefetch < prefetchLimit
    }

    private static func start(_ id: UInt64, _ priority: Priority, _ state: inout State) {
        state.running[id] = priority
        if priority == .prefetch { state.runningPrefetch += 1 }
    }
}
