// Attempt: one request on one endpoint, run in a task of its own so that the stall watchdog or a faster hedged
// twin can call it off (cancelling the task removes the transfer from the store, e.g. curl's multi handle).

import ObjectStore
import Synchronization

/// What a successful attempt returns: nothing for a GET (its bytes went to the sink), the answer otherwise.
enum AttemptValue: Sendable {
    case streamed
    case info(ObjectInfo)
    case page(ListPage)
    /// A write's new ETag (nil: CompleteMultipartUpload did not say).
    case etag(ETag?)
    case upload(MultipartUploadID)
    case uploads([MultipartUploadInfo])
    /// A write that answers nothing (DeleteObject, AbortMultipartUpload).
    case done
}

/// Why an attempt was called off before it ended by itself.
enum CallOff: Sendable, Equatable {
    /// No progress for `limit` seconds.
    case stalled(limit: Double)
    /// Its hedged twin answered first.
    case lostRace
}

final class Attempt: Sendable {
    private struct Progress {
        var last: Double
        var firstByte: Double?
        var callOff: CallOff?
        var finished = false
    }

    /// The attempt's place in its round: 0 for the first request, 1 for a hedged twin.
    let index: Int
    let endpoint: Int
    let health: EndpointHealth
    let started: Double
    let stallLimit: Double
    private let now: @Sendable () -> Double
    private let progress: Mutex<Progress>
    private let task = Mutex<Task<Result<AttemptValue, ObjectStoreError>, Never>?>(nil)

    init(
        index: Int, endpoint: Int, health: EndpointHealth, stallLimit: Double, now: @escaping @Sendable () -> Double
    ) {
        self.index = index
        self.endpoint = endpoint
        self.health = health
        self.stallLimit = stallLimit
        self.now = now
        started = now()
        progress = Mutex(Progress(last: started))
    }

    /// Starts `body` in its own task; the endpoint counts it as in flight until its outcome is recorded.
    func start(_ body: @escaping @Sendable (Attempt) async -> Result<AttemptValue, ObjectStoreError>) {
        health.begin()
        let handle = Task { await body(self) }
        task.withLock { $0 = handle }
    }

    /// The outcome; cancelling the waiting task cancels the attempt.
    func outcome() async -> Result<AttemptValue, ObjectStoreError> {
        guard let handle = task.withLock({ $0 }) else { preconditionFailure("attempt awaited before it started") }
        let result = await withTaskCancellationHandler {
            await handle.value
        } onCancel: {
            handle.cancel()
        }
        progress.withLock { $0.finished = true }
        return result
    }

    /// Body bytes arrived; on the first ones the endpoint learns its time to first byte.
    func touch() {
        let time = now()
        let isFirst = progress.withLock { progress in
            progress.last = time
            defer { progress.firstByte = progress.firstByte ?? time }
            return progress.firstByte == nil
        }
        if isFirst { health.firstByte(after: time - started, now: time) }
    }

    /// When the stall watchdog calls it off, unless bytes arrive before; nil once it ended or was called off.
    var stallDeadline: Double? {
        progress.withLock { $0.finished || $0.callOff != nil ? nil : $0.last + stallLimit }
    }

    var hasFirstByte: Bool { progress.withLock { $0.firstByte != nil } }

    var callOffReason: CallOff? { progress.withLock { $0.callOff } }

    func callOff(_ reason: CallOff) {
        let first = progress.withLock { progress in
            defer { progress.callOff = progress.callOff ?? reason }
            return progress.callOff == nil
        }
        if first { task.withLock { $0?.cancel() } }
    }
}
