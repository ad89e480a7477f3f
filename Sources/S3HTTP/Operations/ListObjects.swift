// ListObjectsV2.

import ObjectStore

extension S3HTTPStore {
    public func list(_ request: ListRequest) async throws(ObjectStoreError) -> ListPage {
        var query: [(name: String, value: String)] = [
            ("list-type", "2"), ("prefix", request.prefix), ("max-keys", String(request.maxKeys)),
            // Keys come back percent-encoded, so control characters cannot break the XML.
            ("encoding-type", "url"),
        ]
        if let delimiter = request.delimiter { query.append(("delimiter", delimiter)) }
        if let token = request.continuationToken { query.append(("continuation-token", token)) }
        if let startAfter = request.startAfter { query.append(("start-after", startAfter)) }
        let response = try await send(key: request.prefix, range: nil) { requests in requests.make(.get, key: nil, query: query) }
        guard response.status == 200 else {
            throw .service(
                ServiceErrorMapping.serviceError(
                    status: response.status, headers: response.headers, body: response.body, target: .bucket))
        }
        do {
            return try ListObjectsV2Reader.read(response.body)
        } catch {
            throw .client(error)
        }
    }
}
