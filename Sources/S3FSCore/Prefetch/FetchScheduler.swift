// FetchScheduler: how many requests run at once, and in what order they start: demand reads > read-ahead > uploads.
//
// At most `maxConcurrent` requests run; read-ahead and uploads together may hold at most
// `maxConcurrent - demandReserve` of them, so a demand read (a process is waiting) always finds a free slot or is
// next in line, never queued behind read-ahead or an upload; uploads may also hold at most `maxUploads`. Waiting
// demand requests start before waiting prefetch requests, and those before waiting uploads; a queued prefetch that
// a reader starts waiting for is promoted to demand. A request cancelled while queued leaves the queue without
// running.
//
// Waiting read-ahead starts earliest-due first, not in arrival order: a block `lead` bytes ahead of its reader is
// due when a reader at 100 MB/s would reach it. When several sequential readers share the slots (a loader's
// workers, each streaming its own shard), the block the furthest-behind reader needs next goes first, so no
// stream falls behind the others while its blocks wait behind blocks that other streams need only later; due
// times also age, so nothing waits for ever.

final class FetchScheduler: Sendable {
    enum Priority: Sendable { case demand, prefetch, upload }

    private struct Waiting {
        let id: UInt64
        var priority: Priority
        let due: ContinuousClock.Instant
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
    private let state = SleepingLock(State())

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

    /// Turns a read-ahead request's lead (bytes ahead of its reader) into its due time: a reader at 100 MB/s.
    static let nanosecondsPerByte: UInt64 = 10

    /// Waits for a slot; false when the task was cancelled first. Every true must be paired with `release`.
    /// `lead`: for read-ahead, how far ahead of its reader the bytes are (0: needed as soon as possible).
    func acquire(_ id: UInt64, priority: Priority, lead: UInt64 = 0) async -> Bool {
        let due = ContinuousClock.now.advanced(by: .nanoseconds(Int64(min(lead, 1 << 50) * Self.nanosecondsPerByte)))
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let granted: Bool? = state.withLock { state in
                    if state.cancelledBeforeQueued.remove(id) != nil { return false }
                    if canStart(priority, state) {
                        Self.start(id, priority, &state)
                        return true
                    }
                    state.queue.append(Waiting(id: id, priority: priority, due: due, continuation: continuation))
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
            while canStart(priority, state), let index = Self.next(priority, in: state.queue) {
                let waiting = state.queue.remove(at: index)
                Self.start(waiting.id, priority, &state)
                started.append(waiting)
            }
        }
        return started
    }

    /// The waiting request of `priority` to start next: the earliest-due read-ahead, else the first in line.
    private static func next(_ priority: Priority, in queue: [Waiting]) -> Int? {
        guard priority == .prefetch else { return queue.firstIndex { $0.priority == priority } }
        var best: Int?
        for index in queue.indices where queue[index].priority == .prefetch {
            if best.map({ queue[index].due < queue[$0].due }) ?? true { best = index }
        }
        return best
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
