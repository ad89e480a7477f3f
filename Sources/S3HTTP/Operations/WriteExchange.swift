// The exchange every write operation shares: hash the body when the request is signed over http (PayloadHash),
// build and sign the request, send it, and turn any non-2xx answer into its ServiceError. Each call builds a new
// request, so a retry by the caller sends the whole body again from its first byte.

import ObjectStore

extension S3HTTPStore {
    /// Sends one request and returns its 2xx answer; any other status is thrown as the service error it carries.
    func sendExpectingSuccess(
        _ method: HTTPRequest.Method, key: String?, query: [(name: String, value: String)] = [],
        ifMatch: ETag? = nil, signedHeaders: [(name: String, value: String)] = [], unsignedHeaders: [String] = [],
        body: UploadBody? = nil, logRange: ByteRange? = nil
    ) async throws(ObjectStoreError) -> HTTPResponse {
        var payloadHash = Digest.emptyPayloadSHA256
        if let body, body.count > 0 {
            do {
                payloadHash = try await requests.payloadHash(for: body)
            } catch {
                throw .client(error)
            }
        }
        let request = requests.make(
            method, key: key, query: query, ifMatch: ifMatch, signedHeaders: signedHeaders,
            unsignedHeaders: unsignedHeaders, body: body, payloadHash: payloadHash)
        let response = try await send(request, key: key, range: logRange)
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
