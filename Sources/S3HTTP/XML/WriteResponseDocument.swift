// WriteResponseDocument: the XML body of a successful (2xx) write answer, checked for an embedded error.
//
// CompleteMultipartUpload, CopyObject and UploadPartCopy can fail after the server has sent `200 OK`: S3 keeps the
// connection alive with whitespace while it works and then sends an <Error> document instead of the result. Such
// an answer is the error it holds (mapped like any error response), never a success. Leading whitespace is
// skipped, since an XML declaration must open the document for the parser.

import ObjectStore

enum WriteResponseDocument {
    /// The root element of `response`'s body; throws the embedded error, or malformedResponse for bad XML.
    static func parse(_ response: HTTPResponse, what: String) throws(ObjectStoreError) -> XMLElementNode {
        let body = Array(response.body.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d })
        let root: XMLElementNode
        do {
            root = try XMLTree.parse(body, what: what)
        } catch {
            throw .client(error)
        }
        if root.name == "Error" {
            throw .service(
                ServiceErrorMapping.serviceError(
                    status: response.status, headers: response.headers, body: body, target: .object))
        }
        return root
    }

    /// The error for a result document without the element it must have.
    static func malformed(_ what: String, _ detail: String) -> ObjectStoreError {
        .client(ClientError(kind: .malformedResponse, detail: "\(what): \(detail)"))
    }
}
