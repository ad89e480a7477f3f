// CounterMirror: a Prometheus counter for a total the core keeps itself (dataset read-ahead's bytes and files),
// brought up to date at scrape time, so the core's hot path does not pay for a second counter.
import CoreMetrics
import Synchronization

/// A Prometheus counter that follows a total kept elsewhere (one series per `state`): each publish adds what the
/// total grew by since the last one.
final class CounterMirror: Sendable {
    private let label: String
    private let published = Mutex<[String: (Counter, UInt64)]>([:])

    init(label: String) { self.label = label }

    func publish(_ totals: [String: UInt64]) {
        published.withLock { published in
            for (state, total) in totals {
                let (counter, last) = published[state] ?? (Counter(label: label, dimensions: [("state", state)]), 0)
                if total > last { counter.increment(by: total - last) }
                published[state] = (counter, max(total, last))
            }
        }
    }
}
