// WrappingStore: a test decorator that changes only some calls of the store it wraps; every write it does not
// override goes straight through.
import ObjectStore

public protocol WrappingStore: ObjectStore {
    var wrapped: any ObjectStore { get }
}

extension WrappingStore {
    public var bucket: String { wrapped.bucket }

    public func put(key: String, body: UploadBody, condition: WriteCondition) async throws(ObjectStoreError) -> ETag {
        try await wrapped.put(key: key, body: body, condition: condition)
    }

    public func delete(key: String) async throws(ObjectStoreError) { try await wrapped.delete(key: key) }

    public func copy(from source: String, to key: String, sourceETag: ETag?) async throws(ObjectStoreError) -> ETag {
        try await wrapped.copy(from: source, to: key, sourceETag: sourceETag)
    }

    public func createMultipartUpload(key: String) async throws(ObjectStoreError) -> MultipartUploadID {
        try await wrapped.createMultipartUpload(key: key)
    }

    public func uploadPart(key: String, upload: MultipartUploadID, number: Int, body: UploadBody)
        async throws(ObjectStoreError) -> ETag
    {
        try await wrapped.uploadPart(key: key, upload: upload, number: number, body: body)
    }

    public func uploadPartCopy(
        key: String, upload: MultipartUploadID, number: Int, source: String, range: ByteRange, sourceETag: ETag?
    ) async throws(ObjectStoreError) -> ETag {
        try await wrapped.uploadPartCopy(
            key: key, upload: upload, number: number, source: source, range: range, sourceETag: sourceETag)
    }

    public func completeMultipartUpload(key: String, upload: MultipartUploadID, parts: [CompletedPart])
        async throws(ObjectStoreError) -> ETag?
    {
        try await wrapped.completeMultipartUpload(key: key, upload: upload, parts: parts)
    }

    public func abortMultipartUpload(key: String, upload: MultipartUploadID) async throws(ObjectStoreError) {
        try await wrapped.abortMultipartUpload(key: key, upload: upload)
    }

    public func listMultipartUploads(prefix: String) async throws(ObjectStoreError) -> [MultipartUploadInfo] {
        try await wrapped.listMultipartUploads(prefix: prefix)
    }
}
