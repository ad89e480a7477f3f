// UploadPartCopy (PUT ?partNumber&uploadId with x-amz-copy-source and x-amz-copy-source-range, both signed): a
// part made of a byte range of another object, optionally only of version `sourceETag`. The answer is a
// CopyPartResult, or an <Error> inside a 200.

import ObjectStore

extension S3HTTPStore {
    public func uploadPartCopy(
        key: String, upload: MultipartUploadID, number: Int, source: String, range: ByteRange, sourceETag: ETag?
    ) async throws(ObjectStoreError) -> ETag {
        guard range.count > 0 else {
            throw .client(ClientError(kind: .other, detail: "UploadPartCopy \(key): empty source range"))
        }
        var signed = [
            (name: "x-amz-copy-source", value: requests.copySource(source)),
            (name: "x-amz-copy-source-range", value: range.httpHeaderValue),
        ]
        if let sourceETag { signed.append((name: "x-amz-copy-source-if-match", value: sourceETag.value)) }
        let response = try await sendExpectingSuccess(
            .put, key: key, query: [("partNumber", String(number)), ("uploadId", upload.value)], signedHeaders: signed,
            logRange: range)
        return try CopyResultReader.read(response, expecting: .part)
    }
}
