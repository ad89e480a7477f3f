// CompleteMultipartUpload (POST ?uploadId with the part list as XML). The answer is a
// CompleteMultipartUploadResult whose ETag is returned (nil when empty, as Ceph RGW sends it), or an <Error>
// inside a 200 when assembling the parts failed.

import ObjectStore

extension S3HTTPStore {
    public func completeMultipartUpload(key: String, upload: MultipartUploadID, parts: [CompletedPart])
        async throws(ObjectStoreError) -> ETag?
    {
        let response = try await sendExpectingSuccess(
            .post, key: key, query: [("uploadId", upload.value)], unsignedHeaders: ["Content-Type: application/xml"],
            body: .bytes(CompleteMultipartUploadDocument.xml(parts)))
        return try CompleteMultipartUploadReader.read(response)
    }
}
