// SpentGets: GETs that just failed after spending every retry, remembered for a moment.
//
// When a buffered read fails the kernel reads the page again at once (filemap_read_folio after failed
// read-ahead): a second FUSE READ of the same range, which would wait out the whole retry budget a second time.
// The same GET (key, range, If-Match) asked again within `memory` seconds of spending its retries gets the same
// error at once. Only exhausted retries are remembered; answers that are final (404, 403, 412) come at once anyway.

import ObjectStore
import Synchronization

final class SpentGets: Sendable {
    struct Request: Hashable, Sendable {
        let key: String
        let range: ByteRange?
        let ifMatch: ETag?
    }

    private struct Spent {
        let error: ObjectStoreError
        let until: Double
    }

    let memory: Double
    let capacity: Int
    private let spent = Mutex<[Request: Spent]>([:])

    init(memory: Double = 1, capacity: Int = 256) {
        self.memory = memory
        self.capacity = capacity
    }

    /// The error `request` failed with less than `memory` seconds ago, if it did.
    func recentError(for request: Request, now: Double) -> ObjectStoreError? {
        spent.withLock { spent in
            guard let entry = spent[request] else { return nil }
            guard now < entry.until else {
                spent[request] = nil
                return nil
            }
            return entry.error
        }
    }

    func remember(_ request: Request, failedWith error: ObjectStoreError, now: Double) {
        spent.withLock { spent in
            if spent.count >= capacity { spent = spent.filter { $0.value.until > now } }
            guard spent.count < capacity else { return }
            spent[request] = Spent(error: error, until: now + memory)
        }
    }
}
