// FaultInjectingStore: wraps a store and makes chosen calls fail, to drive error paths through real operations.
//
// A rule fails either the N-th call of one operation (counted from when the rule was added, as mountpoint-s3's
// countdown failure client does) or every call a predicate accepts. Calls no rule claims go to the wrapped store.
import ObjectStore
import Synchronization

public final class FaultInjectingStore: ObjectStore {
    private struct Rule: Sendable {
        enum Trigger: Sendable {
            case nthCall(operation: ObjectStoreOperation, remaining: Int)
            case matching(@Sendable (ObjectStoreCall) -> Bool)
        }

        var trigger: Trigger
        let error: ObjectStoreError
    }

    public let wrapped: any ObjectStore
    private let rules = Mutex<[Rule]>([])
    private let injected = Mutex<[ObjectStoreCall]>([])

    public init(wrapping store: any ObjectStore) { wrapped = store }

    public var bucket: String { wrapped.bucket }

    /// Fails the `n`-th call of `operation` from now on (1 is the next one) with `error`, once.
    public func failCall(_ n: Int, of operation: ObjectStoreOperation, with error: ObjectStoreError) {
        precondition(n >= 1, "calls are counted from 1")
        rules.withLock { $0.append(Rule(trigger: .nthCall(operation: operation, remaining: n), error: error)) }
    }

    /// Fails every call `predicate` accepts with `error`, until `removeAllFaults`.
    public func failAll(with error: ObjectStoreError, where predicate: @escaping @Sendable (ObjectStoreCall) -> Bool) {
        rules.withLock { $0.append(Rule(trigger: .matching(predicate), error: error)) }
    }

    /// Fails every call of `operation` with `error`, until `removeAllFaults`.
    public func failAll(_ operation: ObjectStoreOperation, with error: ObjectStoreError) {
        failAll(with: error) { $0.operation == operation }
    }

    public func removeAllFaults() { rules.withLock { $0.removeAll() } }

    /// The calls that were failed on purpose, oldest first.
    public var injectedFailures: [ObjectStoreCall] { injected.withLock { $0 } }

    public func list(_ request: ListRequest) async throws(ObjectStoreError) -> ListPage {
        try check(.list(request))
        return try await wrapped.list(request)
    }

    public func head(key: String) async throws(ObjectStoreError) -> ObjectInfo {
        try check(.head(key: key))
        return try await wrapped.head(key: key)
    }

    public func get(key: String, range: ByteRange?, ifMatch: ETag?) async throws(ObjectStoreError) -> [UInt8] {
        try check(.get(key: key, range: range, ifMatch: ifMatch))
        return try await wrapped.get(key: key, range: range, ifMatch: ifMatch)
    }

    /// Advances every countdown the call belongs to and throws the first rule's error that fires.
    func check(_ call: ObjectStoreCall) throws(ObjectStoreError) {
        let failure: ObjectStoreError? = rules.withLock { rules in
            var fired: ObjectStoreError?
            for index in rules.indices {
                switch rules[index].trigger {
                case .nthCall(let operation, let remaining) where operation == call.operation && remaining > 0:
                    rules[index].trigger = .nthCall(operation: operation, remaining: remaining - 1)
                    if remaining == 1, fired == nil { fired = rules[index].error }
                case .matching(let predicate) where fired == nil && predicate(call):
                    fired = rules[index].error
                default:
                    break
                }
            }
            return fired
        }
        guard let failure else { return }
        injected.withLock { $0.append(call) }
        throw failure
    }
}
