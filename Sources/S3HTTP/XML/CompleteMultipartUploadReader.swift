// Reads CompleteMultipartUpload's answer (CompleteMultipartUploadResult) into the object's ETag. Ceph RGW sends
// an empty <ETag>: the object exists but its ETag is unknown here (nil; a HEAD tells it).

import ObjectStore

enum CompleteMultipartUploadReader {
    static let what = "CompleteMultipartUpload response"

    static func read(_ response: HTTPResponse) throws(ObjectStoreError) -> ETag? {
        let root = try WriteResponseDocument.parse(response, what: what)
        guard root.name == "CompleteMultipartUploadResult" else {
            throw WriteResponseDocument.malformed(what, "root element is <\(root.name)>, expected <CompleteMultipartUploadResult>")
        }
        return ServerETag.read(root.childText("ETag"))
    }
}
