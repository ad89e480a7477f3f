// EndpointPool's writes: each one is an operation of kind `.write` run by `perform`, so an endpoint fault or
// throttling is retried on another endpoint within RetryPolicy's bounds, exactly as LIST and HEAD are; a final
// answer (403, 404, 412, ...) is returned at once. Writes are never hedged: a twin would apply the write twice.
//
// A retry re-sends the whole request: a body is an UploadBody value (bytes, or a file range every attempt reads
// again from its start), so nothing of a failed attempt carries over. Retried writes are idempotent in effect
// except where noted below: a PUT with If-None-Match whose first attempt succeeded unseen answers 412 on retry,
// and a retried CreateMultipartUpload can leave the first attempt's upload behind (ListMultipartUploads finds it).

import ObjectStore
import Synchronization

extension EndpointPool {
    public func put(key: String, body: UploadBody, condition: WriteCondition) async throws(ObjectStoreError) -> ETag {
        try await etag(of: perform(.write) { attempt, _ in
            await Self.attempt { () async throws(ObjectStoreError) in
                .etag(try await self.endpoints[attempt.endpoint].store.put(key: key, body: body, condition: condition))
            }
        })
    }

    public func delete(key: String) async throws(ObjectStoreError) {
        _ = try await perform(.write) { attempt, _ in
            await Self.attempt { () async throws(ObjectStoreError) in
                try await self.endpoints[attempt.endpoint].store.delete(key: key)
                return .done
            }
        }
    }

    public func copy(from source: String, to key: String, sourceETag: ETag?) async throws(ObjectStoreError) -> ETag {
        try await etag(of: perform(.write) { attempt, _ in
            await Self.attempt { () async throws(ObjectStoreError) in
                .etag(try await self.endpoints[attempt.endpoint].store.copy(from: source, to: key, sourceETag: sourceETag))
            }
        })
    }

    public func createMultipartUpload(key: String) async throws(ObjectStoreError) -> MultipartUploadID {
        let value = try await perform(.write) { attempt, _ in
            await Self.attempt { () async throws(ObjectStoreError) in
                .upload(try await self.endpoints[attempt.endpoint].store.createMultipartUpload(key: key))
            }
        }
        guard case .upload(let id) = value else { preconditionFailure("a CreateMultipartUpload attempt returned \(value)") }
        return id
    }

    public func uploadPart(key: String, upload: MultipartUploadID, number: Int, body: UploadBody)
        async throws(ObjectStoreError) -> ETag
    {
        try await etag(of: perform(.write) { attempt, _ in
            await Self.attempt { () async throws(ObjectStoreError) in
                .etag(
                    try await self.endpoints[attempt.endpoint].store.uploadPart(
                        key: key, upload: upload, number: number, body: body))
            }
        })
    }

    public func uploadPartCopy(
        key: String, upload: MultipartUploadID, number: Int, source: String, range: ByteRange, sourceETag: ETag?
    ) async throws(ObjectStoreError) -> ETag {
        try await etag(of: perform(.write) { attempt, _ in
            await Self.attempt { () async throws(ObjectStoreError) in
                .etag(
                    try await self.endpoints[attempt.endpoint].store.uploadPartCopy(
                        key: key, upload: upload, number: number, source: source, range: range, sourceETag: sourceETag))
            }
        })
    }

    /// A retry can find the upload gone (NoSuchUpload) because an earlier attempt of this same call completed it
    /// and only its answer was lost (a reset or timeout after the server committed, a 5xx sent late). Once an
    /// attempt has failed in a way that may have reached the server (any retried failure), a later NoSuchUpload
    /// counts as success if a HEAD of the key, on the same endpoint, finds the object; the ETag is then nil, since
    /// the object HEAD sees may already be a later write. Otherwise NoSuchUpload is returned as the final error.
    public func completeMultipartUpload(key: String, upload: MultipartUploadID, parts: [CompletedPart])
        async throws(ObjectStoreError) -> ETag?
    {
        let mayHaveCompleted = CompletionFlag()
        let value = try await perform(.write) { attempt, _ in
            let store = self.endpoints[attempt.endpoint].store
            let outcome = await Self.attempt { () async throws(ObjectStoreError) in
                .etag(try await store.completeMultipartUpload(key: key, upload: upload, parts: parts))
            }
            guard case .failure(let error) = outcome else { return outcome }
            if case .service(let service) = error, service.kind == .noSuchUpload, mayHaveCompleted.isSet {
                do throws(ObjectStoreError) {
                    _ = try await store.head(key: key)
                    return .success(.etag(nil))
                } catch {
                    // No object: the upload ended without this call completing it; its NoSuchUpload stands.
                    if case .service(let missing) = error, missing.kind == .noSuchKey { return outcome }
                    return .failure(error)
                }
            }
            if RetryPolicy.disposition(of: error) != .final { mayHaveCompleted.set() }
            return outcome
        }
        guard case .etag(let etag) = value else { preconditionFailure("a CompleteMultipartUpload attempt returned \(value)") }
        return etag
    }

    public func abortMultipartUpload(key: String, upload: MultipartUploadID) async throws(ObjectStoreError) {
        _ = try await perform(.write) { attempt, _ in
            await Self.attempt { () async throws(ObjectStoreError) in
                do throws(ObjectStoreError) {
                    try await self.endpoints[attempt.endpoint].store.abortMultipartUpload(key: key, upload: upload)
                } catch {
                    // Gone already: completed, or aborted by an earlier attempt whose answer was lost.
                    guard case .service(let service) = error, service.kind == .noSuchUpload else { throw error }
                }
                return .done
            }
        }
    }

    public func listMultipartUploads(prefix: String) async throws(ObjectStoreError) -> [MultipartUploadInfo] {
        let value = try await perform(.write) { attempt, _ in
            await Self.attempt { () async throws(ObjectStoreError) in
                .uploads(try await self.endpoints[attempt.endpoint].store.listMultipartUploads(prefix: prefix))
            }
        }
        guard case .uploads(let uploads) = value else { preconditionFailure("a ListMultipartUploads attempt returned \(value)") }
        return uploads
    }

    /// One attempt's call turned into the Result `perform` expects.
    private static func attempt(
        _ call: () async throws(ObjectStoreError) -> AttemptValue
    ) async -> Result<AttemptValue, ObjectStoreError> {
        do throws(ObjectStoreError) {
            return .success(try await call())
        } catch {
            return .failure(error)
        }
    }

    private func etag(of value: AttemptValue) -> ETag {
        guard case .etag(let etag?) = value else { preconditionFailure("a write attempt returned \(value)") }
        return etag
    }
}

/// Set once an attempt of a CompleteMultipartUpload failed in a way that may have reached the server.
private final class CompletionFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .relaxed) }

    func set() { value.store(true, ordering: .relaxed) }
}
