// FaultInjectingStore's writes: each is checked against the rules like a read, then passed to the wrapped store.
import ObjectStore

extension FaultInjectingStore {
    public func put(key: String, body: UploadBody, condition: WriteCondition) async throws(ObjectStoreError) -> ETag {
        try check(.put(key: key, size: body.count, condition: condition))
        return try await wrapped.put(key: key, body: body, condition: condition)
    }

    public func delete(key: String) async throws(ObjectStoreError) {
        try check(.delete(key: key))
        try await wrapped.delete(key: key)
    }

    public func copy(from source: String, to key: String, sourceETag: ETag?) async throws(ObjectStoreError) -> ETag {
        try check(.copy(source: source, key: key))
        return try await wrapped.copy(from: source, to: key, sourceETag: sourceETag)
    }

    public func createMultipartUpload(key: String) async throws(ObjectStoreError) -> MultipartUploadID {
        try check(.createMultipartUpload(key: key))
        return try await wrapped.createMultipartUpload(key: key)
    }

    public func uploadPart(key: String, upload: MultipartUploadID, number: Int, body: UploadBody)
        async throws(ObjectStoreError) -> ETag
    {
        try check(.uploadPart(key: key, number: number, size: body.count))
        return try await wrapped.uploadPart(key: key, upload: upload, number: number, body: body)
    }

    public func uploadPartCopy(
        key: String, upload: MultipartUploadID, number: Int, source: String, range: ByteRange, sourceETag: ETag?
    ) async throws(ObjectStoreError) -> ETag {
        try check(.uploadPartCopy(key: key, number: number, source: source, range: range))
        return try await wrapped.uploadPartCopy(
            key: key, upload: upload, number: number, source: source, range: range, sourceETag: sourceETag)
    }

    public func completeMultipartUpload(key: String, upload: MultipartUploadID, parts: [CompletedPart])
        async throws(ObjectStoreError) -> ETag?
    {
        try check(.completeMultipartUpload(key: key, parts: parts.count))
        return try await wrapped.completeMultipartUpload(key: key, upload: upload, parts: parts)
    }

    public func abortMultipartUpload(key: String, upload: MultipartUploadID) async throws(ObjectStoreError) {
        try check(.abortMultipartUpload(key: key))
        try await wrapped.abortMultipartUpload(key: key, upload: upload)
    }

    public func listMultipartUploads(prefix: String) async throws(ObjectStoreError) -> [MultipartUploadInfo] {
        try check(.listMultipartUploads(prefix: prefix))
        return try await wrapped.listMultipartUploads(prefix: prefix)
    }
}
