// Reads the answer of CopyObject (CopyObjectResult) or UploadPartCopy (CopyPartResult) into the new ETag.

import ObjectStore

enum CopyResultReader {
    /// Which copy answered, by its result element.
    enum Result: String {
        case object = "CopyObjectResult"
        case part = "CopyPartResult"
    }

    static func read(_ response: HTTPResponse, expecting result: Result) throws(ObjectStoreError) -> ETag {
        let what = result == .object ? "CopyObject response" : "UploadPartCopy response"
        let root = try WriteResponseDocument.parse(response, what: what)
        guard root.name == result.rawValue else {
            throw WriteResponseDocument.malformed(what, "root element is <\(root.name)>, expected <\(result.rawValue)>")
        }
        guard let etag = ServerETag.read(root.childText("ETag")) else {
            throw WriteResponseDocument.malformed(what, "no usable <ETag>")
        }
        return etag
    }
}
