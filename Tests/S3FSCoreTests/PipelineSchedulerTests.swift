@testable import S3FSCore
import Synchronization
import Testing

/// FetchScheduler: how many GETs run, and which waiting one starts next. Acquirers run on an IdleTrackingExecutor,
/// so "the executor is idle" means each one has either got its slot or is parked in the queue.
@Suite struct PipelineSchedulerTests {
    let executor = IdleTrackingExecutor()

    /// Results of acquire calls, by ticket, in the order they were granted.
    final class Grants: Sendable {
        private let state = Mutex<[(UInt64, Bool)]>([])
        func record(_ id: UInt64, _ granted: Bool) { state.withLock { $0.append((id, granted)) } }
        var granted: [UInt64] { state.withLock { $0.filter(\.1).map(\.0) } }
        var refused: [UInt64] { state.withLock { $0.filter { !$0.1 }.map(\.0) } }
        var count: Int { state.withLock { $0.count } }
    }

    @discardableResult
    func acquire(
        _ scheduler: FetchScheduler, _ priority: FetchScheduler.Priority, _ grants: Grants, lead: UInt64 = 0
    ) async -> (id: UInt64, task: Task<Bool, Never>) {
        let id = scheduler.makeTicket()
        let task = Task(executorPreference: executor) {
            let granted = await scheduler.acquire(id, priority: priority, lead: lead)
            grants.record(id, granted)
            return granted
        }
        #expect(await eventually { executor.isIdle })
        return (id, task)
    }

    @Test func prefetchNeverTakesTheDemandReserve() async {
        let scheduler = FetchScheduler(maxConcurrent: 4)
        #expect(scheduler.maxPrefetch == 3)
        let grants = Grants()
        var prefetches: [UInt64] = []
        for _ in 0..<5 { prefetches.append(await acquire(scheduler, .prefetch, grants).id) }
        #expect(grants.granted == Array(prefetches[0..<3]))
        #expect(scheduler.runningCount == 3)
        // The fourth slot is there for a demand read.
        let demand = await acquire(scheduler, .demand, grants).id
        #expect(grants.granted == Array(prefetches[0..<3]) + [demand])
        #expect(scheduler.runningCount == 4)
        // A freed demand slot goes to the next prefetch only if that keeps prefetch at three.
        scheduler.release(demand)
        #expect(await eventually { executor.isIdle })
        #expect(scheduler.runningCount == 3)
        #expect(grants.count == 4)
        scheduler.release(prefetches[0])
        #expect(await eventually { grants.count == 5 })
        #expect(grants.granted.last == prefetches[3])
        #expect(scheduler.runningCount == 3)
        for id in prefetches[1...3] { scheduler.release(id) }
        #expect(await eventually { grants.count == 6 })
        for id in [prefetches[4]] { scheduler.release(id) }
        #expect(scheduler.runningCount == 0)
    }

    @Test func waitingReadAheadStartsNearestToItsReaderFirst() async {
        // One read-ahead slot; three streams' next blocks wait, 48, 8 and 24 GiB ahead of their readers (minutes
        // apart at the nominal rate, so the test's own pauses cannot reorder them): the one a reader will reach
        // first starts first, whatever the order they were asked for in.
        let scheduler = FetchScheduler(maxConcurrent: 2)
        #expect(scheduler.maxPrefetch == 1)
        let grants = Grants()
        let running = await acquire(scheduler, .prefetch, grants).id
        let far = await acquire(scheduler, .prefetch, grants, lead: 48 << 30).id
        let near = await acquire(scheduler, .prefetch, grants, lead: 8 << 30).id
        let middle = await acquire(scheduler, .prefetch, grants, lead: 24 << 30).id
        #expect(grants.granted == [running])
        for (finished, next) in [(running, near), (near, middle), (middle, far)] {
            scheduler.release(finished)
            #expect(await eventually { grants.granted.last == next })
        }
        scheduler.release(far)
        #expect(scheduler.runningCount == 0)
    }

    @Test func aWaitingDemandStartsBeforeAWaitingPrefetch() async {
        let scheduler = FetchScheduler(maxConcurrent: 4)
        let grants = Grants()
        var running: [UInt64] = []
        for _ in 0..<4 { running.append(await acquire(scheduler, .demand, grants).id) }
        let prefetch = await acquire(scheduler, .prefetch, grants).id
        let demand = await acquire(scheduler, .demand, grants).id
        #expect(grants.count == 4)
        scheduler.release(running[0])
        #expect(await eventually { grants.count == 5 })
        #expect(await eventually { executor.isIdle })
        #expect(grants.granted.last == demand)
        #expect(grants.count == 5)
        scheduler.release(running[1])
        #expect(await eventually { grants.count == 6 })
        #expect(grants.granted.last == prefetch)
        for id in running[2...] + [demand, prefetch] { scheduler.release(id) }
        #expect(scheduler.runningCount == 0)
    }

    @Test func uploadsStartAfterReadsAndWithinTheirOwnBound() async {
        let scheduler = FetchScheduler(maxConcurrent: 8, maxUploads: 2)
        let grants = Grants()
        let uploads = [await acquire(scheduler, .upload, grants).id, await acquire(scheduler, .upload, grants).id]
        let third = await acquire(scheduler, .upload, grants).id
        #expect(grants.granted == uploads)  // the upload bound holds with slots free
        var demands: [UInt64] = []
        for _ in 0..<6 { demands.append(await acquire(scheduler, .demand, grants).id) }
        let waitingDemand = await acquire(scheduler, .demand, grants).id
        #expect(grants.granted == uploads + demands)
        // A freed upload slot goes to the waiting demand read, never to the waiting upload.
        scheduler.release(uploads[0])
        #expect(await eventually { grants.count == 9 })
        #expect(grants.granted.last == waitingDemand)
        // With no read waiting, the upload starts.
        scheduler.release(demands[0])
        #expect(await eventually { grants.count == 10 })
        #expect(grants.granted.last == third)
        for id in [uploads[1], third, waitingDemand] + demands[1...] { scheduler.release(id) }
        #expect(scheduler.runningCount == 0)
    }

    @Test func promoteStartsAQueuedPrefetchAsDemand() async {
        let scheduler = FetchScheduler(maxConcurrent: 4)
        let grants = Grants()
        var prefetches: [UInt64] = []
        for _ in 0..<4 { prefetches.append(await acquire(scheduler, .prefetch, grants).id) }
        #expect(grants.count == 3)
        scheduler.promote(prefetches[3])
        #expect(await eventually { grants.count == 4 })
        #expect(grants.granted.last == prefetches[3])
        #expect(scheduler.runningCount == 4)
        // Promoting something running (or unknown) changes nothing.
        scheduler.promote(prefetches[0])
        scheduler.promote(99_999)
        #expect(scheduler.runningCount == 4)
        for id in prefetches { scheduler.release(id) }
        #expect(scheduler.runningCount == 0)
    }

    @Test func cancellingAQueuedAcquireReturnsFalseAndLeaksNoSlot() async {
        let scheduler = FetchScheduler(maxConcurrent: 2)
        let grants = Grants()
        let first = await acquire(scheduler, .demand, grants).id
        let second = await acquire(scheduler, .demand, grants).id
        let queued = await acquire(scheduler, .demand, grants)
        #expect(grants.count == 2)
        queued.task.cancel()
        #expect(await queued.task.value == false)
        #expect(grants.refused == [queued.id])
        scheduler.release(first)
        scheduler.release(second)
        #expect(scheduler.runningCount == 0)
        // Both slots are free again: two new demands start at once, a third waits.
        let later = Grants()
        let a = await acquire(scheduler, .demand, later).id
        let b = await acquire(scheduler, .demand, later).id
        let c = await acquire(scheduler, .demand, later)
        #expect(later.granted == [a, b])
        #expect(scheduler.runningCount == 2)
        scheduler.release(a)
        #expect(await c.task.value == true)
        scheduler.release(b)
        scheduler.release(c.id)
        #expect(scheduler.runningCount == 0)
    }

    @Test func anAcquireCancelledBeforeItStartsReturnsFalse() async {
        let scheduler = FetchScheduler(maxConcurrent: 2)
        let id = scheduler.makeTicket()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await scheduler.acquire(id, priority: .demand)
        }
        #expect(await task.value == false)
        #expect(scheduler.runningCount == 0)
    }

    /// How many run now, and the most that ever ran at once.
    final class Gauge: Sendable {
        private let state = Mutex((now: 0, peak: 0))
        func enter() { state.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) } }
        func leave() { state.withLock { $0.now -= 1 } }
        var peak: Int { state.withLock { $0.peak } }
    }

    @Test func neverMoreThanMaxConcurrentRunUnderLoad() async {
        let scheduler = FetchScheduler(maxConcurrent: 4)
        let all = Gauge()
        let prefetch = Gauge()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<400 {
                group.addTask {
                    let priority: FetchScheduler.Priority = index % 3 == 0 ? .demand : .prefetch
                    let id = scheduler.makeTicket()
                    guard await scheduler.acquire(id, priority: priority) else { return }
                    all.enter()
                    if priority == .prefetch { prefetch.enter() }
                    await Task.yield()
                    if priority == .prefetch { prefetch.leave() }
                    all.leave()
                    scheduler.release(id)
                }
            }
        }
        #expect(all.peak <= 4)
        #expect(prefetch.peak <= 3)
        #expect(all.peak >= 2, "the load never overlapped: the test tests nothing")
        #expect(scheduler.runningCount == 0)
    }
}
