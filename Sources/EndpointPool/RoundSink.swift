// The sinks between the store and the caller's ByteSink during a GET: one per attempt, counting progress for the
// stall watchdog, and one per operation, counting the bytes delivered so a retry continues where the last stopped.

import ObjectStore
import Synchronization

/// Forwards to the caller's sink and counts what it forwarded (the next attempt starts at `count`).
final class DeliveredBytes: ByteSink {
    private let downstream: any ByteSink
    private let delivered = Atomic<UInt64>(0)

    init(_ downstream: any ByteSink) { self.downstream = downstream }

    var count: UInt64 { delivered.load(ordering: .acquiring) }

    func receive(_ chunk: UnsafeRawBufferPointer) {
        downstream.receive(chunk)
        delivered.add(UInt64(chunk.count), ordering: .releasing)
    }
}

/// Decides which attempt of a round owns the caller's sink: the first to deliver a byte (or to finish); the
/// others are called off at that moment.
final class Race: Sendable {
    private struct State {
        var winner: Int?
        var attempts: [Attempt] = []
    }

    private let state = Mutex(State())

    func add(_ attempt: Attempt) { state.withLock { $0.attempts.append(attempt) } }

    var attempts: [Attempt] { state.withLock { $0.attempts } }

    var winner: Int? { state.withLock { $0.winner } }

    /// True when `index` owns the sink (now or already); the first claim calls off every other attempt.
    func claim(_ index: Int) -> Bool {
        let (owns, losers): (Bool, [Attempt]) = state.withLock { state in
            if let winner = state.winner { return (winner == index, []) }
            state.winner = index
            return (true, state.attempts.filter { $0.index != index })
        }
        for loser in losers { loser.callOff(.lostRace) }
        return owns
    }
}

/// One attempt's view of the caller's sink: marks progress, and passes bytes on only while the attempt owns it.
final class AttemptSink: ByteSink {
    private let attempt: Attempt
    private let race: Race
    private let delivered: DeliveredBytes
    private let metrics: PoolMetrics

    init(attempt: Attempt, race: Race, delivered: DeliveredBytes, metrics: PoolMetrics) {
        self.attempt = attempt
        self.race = race
        self.delivered = delivered
        self.metrics = metrics
    }

    func receive(_ chunk: UnsafeRawBufferPointer) {
        attempt.touch()
        guard race.claim(attempt.index) else { return }
        delivered.receive(chunk)
        metrics.received(chunk.count, on: attempt.endpoint)
    }
}

/// Collects a GET's body for the callers that want it in one array.
final class ByteCollector: ByteSink, @unchecked Sendable {
    // SAFETY (unchecked Sendable): one transfer writes at a time (an attempt owns the sink until it ends; a new
    // attempt starts only after that), and `bytes` is read after the GET returned.
    private(set) var bytes: [UInt8] = []

    init(expected: Int) { bytes.reserveCapacity(min(expected, 64 << 20)) }

    func receive(_ chunk: UnsafeRawBufferPointer) { bytes.append(contentsOf: chunk) }
}
