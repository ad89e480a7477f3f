// UploadPart (PUT ?partNumber&uploadId): one part's body from memory or a file range; its ETag from the answer's
// ETag header. An upload that was completed or aborted answers 404 NoSuchUpload.

import ObjectStore

extension S3HTTPStore {
    public func uploadPart(key: String, upload: MultipartUploadID, number: Int, body: UploadBody)
        async throws(ObjectStoreError) -> ETag
    {
        let response = try await sendExpectingSuccess(
            .put, key: key, query: [("partNumber", String(number)), ("uploadId", upload.value)], body: body)
        return try Self.etagHeader(of: response, "UploadPart \(number)", key: key)
    }
}
