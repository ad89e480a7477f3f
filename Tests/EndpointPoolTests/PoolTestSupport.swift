// Helpers for the pool tests: a clock the test can move forward, quiet loggers, a pool over given stores.
import EndpointPool
import Logging
import ObjectStore
import S3FSTesting
import Synchronization

/// Real time plus an offset the test adds (so breaker timers can be passed without waiting); real sleeps, so
/// transfers held at a gate are not declared stalled by virtual time; no randomness.
final class TestClock: Sendable {
    private let offset = Mutex(0.0)
    private let sleeps = Mutex<[Double]>([])
    /// What every draw of the random source returns (0: ties and explorations go to the first endpoint).
    private let draw: Double

    init(uniform: Double = 0.5) { draw = uniform }

    func skip(_ seconds: Double) { offset.withLock { $0 += seconds } }

    /// Every sleep the pool asked for, in seconds.
    var slept: [Double] { sleeps.withLock { $0 } }

    var timing: PoolTiming {
        let live = PoolTiming.live
        return PoolTiming(
            now: { live.now() + self.offset.withLock { $0 } },
            sleep: { seconds in
                self.sleeps.withLock { $0.append(seconds) }
                try await live.sleep(seconds)
            },
            uniform: { self.draw })
    }
}

let quietLogger = Logger(label: "endpoint-pool-tests", factory: { _ in SwiftLogNoOpLogHandler() })

func makePool(
    _ stores: [any ObjectStore], policy: EndpointPolicy = .failover, clock: TestClock = TestClock(),
    configure: (inout EndpointPoolConfig) -> Void = { _ in }
) -> EndpointPool {
    var config = EndpointPoolConfig(policy: policy, stallFloor: 60)
    configure(&config)
    let endpoints = stores.enumerated().map { EndpointPool.Endpoint(name: "http://endpoint-\($0.offset)", store: $0.element) }
    return EndpointPool(endpoints: endpoints, config: config, logger: quietLogger, timing: clock.timing, activeProbing: false)
}

/// A bucket with one object `data` of `size` deterministic bytes.
func mockWithObject(size: Int = 10_000) -> (MockObjectStore, [UInt8], ObjectInfo) {
    let store = MockObjectStore()
    let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
    let info = store.put("data", bytes)
    return (store, bytes, info)
}

func serviceError(_ kind: ServiceError.Kind, _ status: Int, _ code: String) -> ObjectStoreError {
    .service(ServiceError(kind: kind, status: status, code: code, message: ""))
}

let refused = ObjectStoreError.client(ClientError(kind: .connectionRefused, detail: "refused (test)"))

/// Yields until `condition` holds (for state another task reaches without a callback to await).
func eventually(_ condition: () -> Bool) async {
    while !condition() { await Task.yield() }
}

/// Moves the test clock forward by `delay` before the first `slowGets` GETs answer, so the pool records a slow
/// time to first byte for them; later GETs pass straight through.
final class SlowFirstByteStore: WrappingStore {
    let wrapped: any ObjectStore
    private let clock: TestClock
    private let delay: Double
    private let remaining: Mutex<Int>

    init(wrapping store: any ObjectStore, clock: TestClock, slowGets: Int, delay: Double) {
        wrapped = store
        self.clock = clock
        self.delay = delay
        remaining = Mutex(slowGets)
    }


    func list(_ request: ListRequest) async throws(ObjectStoreError) -> ListPage { try await wrapped.list(request) }

    func head(key: String) async throws(ObjectStoreError) -> ObjectInfo { try await wrapped.head(key: key) }

    func get(key: String, range: ByteRange?, ifMatch: ETag?) async throws(ObjectStoreError) -> [UInt8] {
        let isSlow = remaining.withLock { count in
            defer { count -= 1 }
            return count > 0
        }
        if isSlow { clock.skip(delay) }
        return try await wrapped.get(key: key, range: range, ifMatch: ifMatch)
    }
}
