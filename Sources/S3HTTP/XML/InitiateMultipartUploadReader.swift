// Reads CreateMultipartUpload's answer (InitiateMultipartUploadResult) into the upload id.

import ObjectStore

enum InitiateMultipartUploadReader {
    static let what = "CreateMultipartUpload response"

    static func read(_ response: HTTPResponse) throws(ObjectStoreError) -> MultipartUploadID {
        let root = try WriteResponseDocument.parse(response, what: what)
        guard root.name == "InitiateMultipartUploadResult" else {
            throw WriteResponseDocument.malformed(what, "root element is <\(root.name)>, expected <InitiateMultipartUploadResult>")
        }
        guard let id = root.childText("UploadId"), !id.isEmpty else {
            throw WriteResponseDocument.malformed(what, "no <UploadId>")
        }
        return MultipartUploadID(id)
    }
}
