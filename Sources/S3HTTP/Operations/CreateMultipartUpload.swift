// CreateMultipartUpload (POST ?uploads): the upload id from InitiateMultipartUploadResult.

import ObjectStore

extension S3HTTPStore {
    public func createMultipartUpload(key: String) async throws(ObjectStoreError) -> MultipartUploadID {
        let response = try await sendExpectingSuccess(.post, key: key, query: [("uploads", "")])
        return try InitiateMultipartUploadReader.read(response)
    }
}
