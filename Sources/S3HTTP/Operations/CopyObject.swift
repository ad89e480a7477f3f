// CopyObject inside the bucket: x-amz-copy-source names the source (signed), x-amz-copy-source-if-match pins its
// version. Ceph RGW 16's CopyObject reads that condition from x-amz-copy-if-match instead (and ignores the
// standard name), so both are sent, signed; S3 ignores the unknown one. The answer is a CopyObjectResult, or an
// <Error> inside a 200 when the copy failed midway.

import ObjectStore

extension S3HTTPStore {
    public func copy(from source: String, to key: String, sourceETag: ETag?) async throws(ObjectStoreError) -> ETag {
        var signed = [(name: "x-amz-copy-source", value: requests.copySource(source))]
        if let sourceETag {
            signed.append((name: "x-amz-copy-source-if-match", value: sourceETag.value))
            signed.append((name: "x-amz-copy-if-match", value: sourceETag.value))
        }
        let response = try await sendExpectingSuccess(.put, key: key, signedHeaders: signed)
        return try CopyResultReader.read(response, expecting: .object)
    }
}
