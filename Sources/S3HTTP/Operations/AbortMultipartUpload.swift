// AbortMultipartUpload (DELETE ?uploadId). An upload that no longer exists (404 NoSuchUpload: completed or
// already aborted) counts as aborted.

import ObjectStore

extension S3HTTPStore {
    public func abortMultipartUpload(key: String, upload: MultipartUploadID) async throws(ObjectStoreError) {
        do {
            _ = try await sendExpectingSuccess(.delete, key: key, query: [("uploadId", upload.value)])
        } catch {
            if case .service(let service) = error, service.kind == .noSuchUpload { return }
            throw error
        }
    }
}
