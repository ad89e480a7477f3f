// HeadObject.

import ObjectStore

extension S3HTTPStore {
    public func head(key: String) async throws(ObjectStoreError) -> ObjectInfo {
        let response = try await send(requests.make(.head, key: key), key: key, range: nil)
        guard response.status == 200 else {
            throw .service(
                ServiceErrorMapping.serviceError(
                    status: response.status, headers: response.headers, body: response.body, target: .object))
        }
        guard let size = response[header: "content-length"].flatMap({ UInt64($0) }) else {
            throw .client(ClientError(kind: .malformedResponse, detail: "HEAD \(key): missing Content-Length"))
        }
        guard let modified = response[header: "last-modified"].flatMap(Timestamps.parseRFC1123) else {
            throw .client(
                ClientError(
                    kind: .malformedResponse,
                    detail: "HEAD \(key): bad Last-Modified \"\(response[header: "last-modified"] ?? "")\""))
        }
        return ObjectInfo(key: key, size: size, lastModified: modified, etag: ETag(response[header: "etag"] ?? ""))
    }
}
