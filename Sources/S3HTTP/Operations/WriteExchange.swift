// The exchange every write operation shares: hash the body when the request is signed over http (PayloadHash),
// build and sign the request, send it, and turn any non-2xx answer into its ServiceError. Each call builds a new
// request (as does `send`'s one retry after a credential refresh), so a retry sends the whole body again from its
// first byte.

import ObjectStore

extension S3HTTPStore {
    /// Sends one request and returns its 2xx answer; any other status is thrown as the service error it carries.
    func sendExpectingSuccess(
        _ method: HTTPRequest.Method, key: String?, query: [(name: String, value: String)] = [],
        ifMatch: ETag? = nil, signedHeaders: [(name: String, value: String)] = [], unsignedHeaders: [String] = [],
        body: UploadBody? = nil, logRange: ByteRange? = nil
    ) async throws(ObjectStoreError) -> HTTPResponse {
        let response = try await send(key: key, range: logRange) { requests throws(ObjectStoreError) in
            var payloadHash = Digest.emptyPayloadSHA256
            if let body, body.count > 0 {
                do throws(ClientError) {
                    payloadHash = try await requests.payloadHash(for: body)
                } catch {
                    throw .client(error)
                }
            }
            return requests.make(
                method, key: key, query: query, ifMatch: ifMatch, signedHeaders: signedHeaders,
                unsignedHeaders: unsignedHeaders, body: body, payloadHash: payloadHash)
        }
        guard (200..<300).contains(response.status) else {
            throw .service(
                ServiceErrorMapping.serviceError(
                    status: response.status, headers: response.headers, body: response.body,
                    target: key == nil ? .bucket : .object))
        }
        return response
    }

    /// The ETag header of a successful PUT or UploadPart; an answer without one is malformed.
    static func etagHeader(of response: HTTPResponse, _ operation: String, key: String) throws(ObjectStoreError) -> ETag {
        guard let etag = ServerETag.read(response[header: "etag"]) else {
            throw .client(ClientError(kind: .malformedResponse, detail: "\(operation) \(key): no usable ETag in the answer"))
        }
        return etag
    }
}
