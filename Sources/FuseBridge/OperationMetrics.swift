// OperationMetrics: what the bridge exports per FUSE operation through swift-metrics, and the recent errors
// `s3mount status` shows:
//   s3mount_fuse_operation_duration_seconds{operation}  from the kernel's request to the reply (its _count is the
//                                                       number of operations)
//   s3mount_fuse_errors_total{operation, errno}         error replies, errno by name (ENOENT, EIO, …)
//   s3mount_metadata_requests_total{result}             lookups and getattrs answered from what s3mount knew
//                                                       ("hit") or after asking S3 ("miss")
// Timers are made once per operation name; error counters on first use (errors are rare), under a lock.
import CoreMetrics
import Observability
import Synchronization

final class OperationMetrics: Sendable {
    /// Every name a FuseRequest is made with (an operation missing here would go untimed).
    static let operations = [
        "lookup", "getattr", "setattr", "opendir", "readdir", "readdirplus", "open", "read", "write", "flush",
        "fsync", "create", "mkdir", "mknod", "unlink", "rmdir", "rename", "unsupported",
    ]

    private let durations: [String: Timer]
    private let errors = Mutex<[String: Counter]>([:])
    let metadataHits: ObservedCounter
    let metadataMisses: ObservedCounter
    let recentErrors = RecentErrors()

    init() {
        durations = Dictionary(uniqueKeysWithValues: Self.operations.map { operation in
            (operation, Timer(label: "s3mount_fuse_operation_duration_seconds", dimensions: [("operation", operation)]))
        })
        metadataHits = ObservedCounter(label: "s3mount_metadata_requests_total", dimensions: [("result", "hit")])
        metadataMisses = ObservedCounter(label: "s3mount_metadata_requests_total", dimensions: [("result", "miss")])
    }

    func answered(_ operation: StaticString, after nanoseconds: Int64) {
        durations[operation.description]?.recordNanoseconds(nanoseconds)
    }

    func failed(_ operation: StaticString, errno code: Int32, message: String) {
        let name = ErrnoName.of(code)
        let key = "\(operation)/\(name)"
        let counter = errors.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "s3mount_fuse_errors_total", dimensions: [("operation", "\(operation)"), ("errno", name)])
            counters[key] = counter
            return counter
        }
        counter.increment()
        recentErrors.note(operation: "\(operation)", errno: code, message: message)
    }

    func metadata(hit: Bool) { (hit ? metadataHits : metadataMisses).increment() }
}
