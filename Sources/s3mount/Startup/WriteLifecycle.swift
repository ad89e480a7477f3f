// The write path at mount and unmount: before the mount goes live, what the journal owes to S3 is staged again and
// its uploads queued (and multipart uploads left by a crash aborted); after unmount, pending uploads are drained
// for up to --drain-timeout, and whatever is left stays journalled for the next mount, which the log says.
import Logging
import S3FSCore

enum WriteLifecycle {
    static func start(_ fileSystem: FileSystem, logger: Logger) throws(MountFailure) {
        let result = BlockingWait.result { () async throws(FSError) -> WriteRecovery? in try await fileSystem.startWrites() }
        switch result {
        case .failure(let error):
            throw MountFailure("cannot set up writes: \(error.message); fix it, give another --cache-dir, or mount --read-only")
        case .success(let recovery?) where recovery.resumed + recovery.dropped + recovery.abortedUploads > 0:
            logger.notice(
                "resuming uploads left by the last mount",
                metadata: ["files": "\(recovery.resumed)", "dropped_unacknowledged": "\(recovery.dropped)",
                           "aborted_multipart_uploads": "\(recovery.abortedUploads)"])
        case .success:
            break
        }
    }

    static func drain(_ fileSystem: FileSystem, timeout: Double, logger: Logger) {
        let pending = fileSystem.pendingUploads
        guard pending > 0 else { return }
        logger.notice("draining uploads before exit", metadata: ["files": "\(pending)", "timeout_s": "\(timeout)"])
        let left = BlockingWait.result { () async -> Int in await fileSystem.drainWrites(timeout: timeout) }
        switch left {
        case .success(0):
            logger.notice("all uploads done")
        case .success(let count):
            logger.warning(
                "uploads not finished at exit; they stay staged and journalled and resume at the next mount with the same --cache-dir",
                metadata: ["files": "\(count)"])
        }
    }
}
