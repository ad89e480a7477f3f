// PutObject: the body from memory or a file range, with If-Match or If-None-Match: * as the condition; the new
// ETag comes from the answer's ETag header. A failed condition is 412 (preconditionFailed).

import ObjectStore

extension S3HTTPStore {
    public func put(key: String, body: UploadBody, condition: WriteCondition) async throws(ObjectStoreError) -> ETag {
        var ifMatch: ETag?
        var unsigned: [String] = []
        switch condition {
        case .unconditional: break
        case .ifMatch(let etag): ifMatch = etag
        case .ifNoneMatch: unsigned.append("If-None-Match: *")
        }
        let response = try await sendExpectingSuccess(
            .put, key: key, ifMatch: ifMatch, unsignedHeaders: unsigned, body: body)
        return try Self.etagHeader(of: response, "PUT", key: key)
    }
}
