// The mount-time check against every endpoint at once: one ListObjectsV2 (max-keys=1) of the prefix each. The
// mount goes ahead as soon as one endpoint answers; an answer that would be the same everywhere (no such bucket,
// access denied) fails it with that answer's message, and so does a certificate that TLS verification refused
// (waiting will not change it, and it is not "unreachable"); when no endpoint answers, one line names each and the fix,
// or with --wait-for-endpoints the check is repeated every second until one does or the time is up.
import EndpointPool
import Foundation
import Logging
import ObjectStore
import S3HTTP

struct EndpointCheck {
    let stores: [S3HTTPStore]
    let configs: [S3HTTPConfig]
    let prefix: String
    let wait: Double
    let logger: Logger

    func run() throws(MountFailure) {
        let deadline = Date().addingTimeInterval(wait)
        var waiting = false
        while true {
            let failures = checkOnce()
            guard let failures else { return }
            if let answered = failures.first(where: { Self.isDecisive($0.error) }) {
                throw failure(for: answered.error, at: answered.index)
            }
            if Date() >= deadline {
                if stores.count == 1, !waiting { throw failure(for: failures[0].error, at: 0) }
                throw unreachable(failures)
            }
            if !waiting {
                logger.notice("waiting for an endpoint", metadata: ["seconds": "\(wait)", "s3.endpoint": "\(names)"])
                waiting = true
            }
            Thread.sleep(forTimeInterval: min(1, max(0, deadline.timeIntervalSinceNow)))
        }
    }

    /// A failure that waiting or another attempt would not change.
    private static func isDecisive(_ error: ObjectStoreError) -> Bool {
        if case .client(let e) = error, e.kind == .tlsCertificate { return true }
        return RetryPolicy.disposition(of: error) == .final
    }

    private var names: String { configs.map(\.endpointDescription).joined(separator: ", ") }

    /// nil when an endpoint answered; else every endpoint's failure, in the order given.
    private func checkOnce() -> [(index: Int, error: ObjectStoreError)]? {
        let stores = self.stores
        let prefix = self.prefix
        let result = BlockingWait.result { () async -> [(index: Int, error: ObjectStoreError)]? in
            await withTaskGroup(of: (Int, ObjectStoreError?).self) { group in
                for (index, store) in stores.enumerated() {
                    group.addTask {
                        do throws(ObjectStoreError) {
                            try await store.checkBucket(prefix: prefix)
                            return (index, nil)
                        } catch {
                            return (index, error)
                        }
                    }
                }
                var failures: [(index: Int, error: ObjectStoreError)] = []
                for await (index, error) in group {
                    guard let error else {
                        group.cancelAll()
                        return nil
                    }
                    failures.append((index, error))
                }
                return failures.sorted { $0.index < $1.index }
            }
        }
        guard case .success(let failures) = result else { return nil }
        if let failures, failures.count < stores.count { return nil }
        for failure in failures ?? [] {
            logger.warning(
                "endpoint unreachable at mount",
                metadata: ["s3.endpoint": "\(configs[failure.index].endpointDescription)", "error": "\(failure.error)"])
        }
        return failures
    }

    private func failure(for error: ObjectStoreError, at index: Int) -> MountFailure {
        .bucketCheck(error, bucket: stores[index].bucket, endpoint: configs[index].endpointDescription, config: configs[index])
    }

    private func unreachable(_ failures: [(index: Int, error: ObjectStoreError)]) -> MountFailure {
        let each = failures.map { "\(configs[$0.index].endpointDescription) (\(Self.brief($0.error)))" }
        let waited = wait > 0 ? " within \(Int(wait)) s" : ""
        return MountFailure(
            "no endpoint answered\(waited): \(each.joined(separator: ", ")); check --endpoint and that the S3 servers are running, or give --wait-for-endpoints SECONDS to wait for one")
    }

    private static func brief(_ error: ObjectStoreError) -> String {
        switch error {
        case .client(let e): return "\(e.kind)"
        case .service(let e): return "HTTP \(e.status) \(e.code)"
        }
    }
}
