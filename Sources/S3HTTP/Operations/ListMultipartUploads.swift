// ListMultipartUploads (GET ?uploads) under a prefix, every page: each page's NextKeyMarker and
// NextUploadIdMarker ask for the next. Keys come back url-encoded (encoding-type=url), so control characters
// cannot break the XML.

import ObjectStore

extension S3HTTPStore {
    public func listMultipartUploads(prefix: String) async throws(ObjectStoreError) -> [MultipartUploadInfo] {
        var uploads: [MultipartUploadInfo] = []
        var marker: (keyMarker: String, uploadIDMarker: String)?
        repeat {
            var query: [(name: String, value: String)] = [("uploads", ""), ("prefix", prefix), ("encoding-type", "url")]
            if let marker {
                query += [("key-marker", marker.keyMarker), ("upload-id-marker", marker.uploadIDMarker)]
            }
            let response = try await sendExpectingSuccess(.get, key: nil, query: query)
            let page: MultipartUploadsPage
            do {
                page = try ListMultipartUploadsReader.read(response.body, urlEncodingRequested: true)
            } catch {
                throw .client(error)
            }
            uploads += page.uploads
            if let next = page.next, let marker, next == marker {
                throw .client(
                    ClientError(kind: .malformedResponse, detail: "ListMultipartUploads: the next page repeats marker \(next.keyMarker)"))
            }
            marker = page.next
        } while marker != nil
        return uploads
    }
}
