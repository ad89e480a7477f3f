// StatusSampler: once a second, the mount's running totals (bytes received from S3, bytes and reads answered,
// reads by stall bucket) go into a ring of the last minute, so that `s3mount status` can give rates and stall
// quantiles over the last minute by subtracting the oldest sample from the totals now. A thread of its own;
// nothing on the read path.
import Foundation
import Synchronization

final class StatusSampler: Sendable {
    struct Sample: Sendable {
        var time: Double
        var receivedBytes: UInt64
        var readBytes: UInt64
        var reads: UInt64
        var readsFromMemory: UInt64
        var stallBuckets: [UInt64]
    }

    static let window: Double = 60
    private let sources: MountObservables
    private let samples = Mutex<[Sample]>([])

    init(sources: MountObservables) {
        self.sources = sources
        let first = current()
        samples.withLock { $0 = [first] }
    }

    func start() {
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                let sample = current()
                samples.withLock { samples in
                    samples.append(sample)
                    samples.removeAll { $0.time < sample.time - Self.window - 0.5 }
                }
            }
        }
        thread.name = "s3m-status"
        thread.start()
    }

    /// The totals now, and the oldest sample of the last minute to subtract from them.
    func window() -> (now: Sample, then: Sample) {
        let now = current()
        return (now, samples.withLock { $0.first } ?? now)
    }

    func current() -> Sample {
        let reads = sources.fileSystem.readStatistics
        return Sample(
            time: Date().timeIntervalSince1970, receivedBytes: sources.pool.receivedBytes.reduce(0, +),
            readBytes: reads.bytesFromMemory + reads.bytesFromS3 + reads.bytesFromStaging,
            reads: reads.readsFromMemory + reads.readsThatWaited, readsFromMemory: reads.readsFromMemory,
            stallBuckets: reads.stallBuckets)
    }
}
