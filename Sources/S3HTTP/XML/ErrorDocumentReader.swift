// Reads an S3 error document (<Error><Code/><Message/><RequestId/></Error>).

import ObjectStore

/// The fields of an S3 error body.
package struct ErrorDocument: Sendable, Equatable {
    package var code: String
    package var message: String
    package var requestID: String?
}

package enum ErrorDocumentReader {
    /// The error document in `body`; throws malformedResponse when the body is not one.
    package static func read(_ body: [UInt8]) throws(ClientError) -> ErrorDocument {
        let root = try XMLTree.parse(body, what: "S3 error response")
        guard root.name == "Error", let code = root.childText("Code"), !code.isEmpty else {
            throw ClientError(
                kind: .malformedResponse, detail: "S3 error response: expected <Error> with <Code>, got <\(root.name)>")
        }
        return ErrorDocument(code: code, message: root.childText("Message") ?? "", requestID: root.childText("RequestId"))
    }
}
