// FetchScheduler: how many requests run at once, and in what order they start: demand reads > read-ahead > uploads.
//
// At most `maxConcurrent` requests run; read-ahead and uploads together may hold at most
// `maxConcurrent - demandReserve` of them, so a demand read (a process is waiting) always finds a free slot or is
// next in line, never queued behind read-ahead or an upload; uploads may also hold at most `maxUploads`. Waiting
// demand requests start before waiting prefetch requests, and those before waiting uploads; a queued prefetch that
// a reader starts waiting for is promoted to demand. A request cancelled while queued leaves the queue without
// running.
import Synchronization

final class FetchScheduler: Sendable {
    enum Priority: Sendable { case demand, prefetch, upload }

    private struct Waiting {
        let id: UInt64
        var priority: Priority
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var running: [UInt64: Priority] = [:]
        var runningPrefetch = 0
        var runningUploads = 0
        var queue: [Waiting] = []
        var cancelledBeforeQueued: Set<UInt64> = []
        var nextID: UInt64 = 1
    }

    let maxConcurrent: Int
    let maxPrefetch: Int
    let maxUploads: Int
    private let state = Mutex(State())

    init(maxConcurrent: Int, maxUploads: Int = 8) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxPrefetch = max(1, self.maxConcurrent - max(1, self.maxConcurrent / 4))
        self.maxUploads = max(1, min(maxUploads, maxPrefetch))
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
                    if canStart(priority, state) {
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
            switch state.running.removeValue(forKey: id) {
            case .prefetch: state.runningPrefetch -= 1
            case .upload: state.runningUploads -= 1
            case .demand, nil: break
            }
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
        for priority in [Priority.demand, .prefetch, .upload] {
            while canStart(priority, state),
                let index = state.queue.firstIndex(where: { $0.priority == priority })
            {
                let waiting = state.queue.remove(at: index)
                Self.start(waiting.id, priority, &state)
                started.append(waiting)
            }
        }
        return started
    }

    private func canStart(_ priority: Priority, _ state: State) -> Bool {
        guard state.running.count < maxConcurrent else { return false }
        let background = state.runningPrefetch + state.runningUploads
        switch priority {
        case .demand: return true
        case .prefetch: return background < maxPrefetch
        case .upload:
            // Below reads: only while no demand read waits, and within the uploads' own bound.
            return background < maxPrefetch && state.runningUploads < maxUploads
                && !state.queue.contains { $0.priority == .demand }
        }
    }

    private static func start(_ id: UInt64, _ priority: Priority, _ state: inout State) {
        state.running[id] = priority
        switch priority {
        case .prefetch: state.runningPrefetch += 1
        case .upload: state.runningUploads += 1
        case .demand: break
        }
    }
}
