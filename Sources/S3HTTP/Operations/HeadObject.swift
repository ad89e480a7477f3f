// HeadObject.

import ObjectStore

extension S3HTTPStore {
    public func head(key: String) async throws(ObjectStoreError) -> ObjectInfo {
        let response = try await send(key: key, range: nil) { requests in requests.make(.head, key: key) }
        guard response.status == 200 else {
            throw .service(
                ServiceErrorMapping.serviceError(
                    status: response.status, headers: response.headers, body: response.body, target: .object))
        }
        guard let size = response[header: "content-length"].flatMap({ ServerNumbers.size($0) }) else {
            throw .client(ClientError(kind: .malformedResponse, detail: "HEAD \(key): missing or absurd Content-Length"))
        }
        // A Last-Modified that is not a time shows as 0 (the epoch), as the same entry does in a listing.
        let modified = response[header: "last-modified"].flatMap(Timestamps.parseRFC1123) ?? 0
        return ObjectInfo(key: key, size: size, lastModified: modified, etag: ServerETag.read(response[header: "etag"]) ?? ETag(""))
    }
}
