// Reads one page of ListMultipartUploads (ListMultipartUploadsResult): the uploads, and the markers of the next
// page when the listing is truncated. Keys and markers are url-decoded when the answer says EncodingType=url, or
// when it was asked for and the answer names no encoding: Ceph RGW 16 encodes them without saying so.

import ObjectStore

/// One page of ListMultipartUploads.
struct MultipartUploadsPage: Sendable, Equatable {
    var uploads: [MultipartUploadInfo]
    /// key-marker and upload-id-marker of the next page; nil when this page was the last.
    var next: (keyMarker: String, uploadIDMarker: String)?

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.uploads == rhs.uploads && lhs.next?.keyMarker == rhs.next?.keyMarker
            && lhs.next?.uploadIDMarker == rhs.next?.uploadIDMarker
    }
}

enum ListMultipartUploadsReader {
    static func read(_ body: [UInt8], urlEncodingRequested: Bool) throws(ClientError) -> MultipartUploadsPage {
        let root = try XMLTree.parse(body, what: "ListMultipartUploads response")
        guard root.name == "ListMultipartUploadsResult" else {
            throw malformed("root element is <\(root.name)>, expected <ListMultipartUploadsResult>")
        }
        let urlEncoded = root.childText("EncodingType").map { $0.lowercased() == "url" } ?? urlEncodingRequested
        var uploads: [MultipartUploadInfo] = []
        for entry in root.children(named: "Upload") {
            guard let rawKey = entry.childText("Key"), let id = entry.childText("UploadId"), !id.isEmpty else {
                throw malformed("<Upload> without <Key> or <UploadId>")
            }
            let key = try decode(rawKey, urlEncoded: urlEncoded, field: "Key")
            let initiated = entry.childText("Initiated").flatMap(Timestamps.parseISO8601) ?? 0
            uploads.append(MultipartUploadInfo(key: key, uploadID: MultipartUploadID(id), initiated: initiated))
        }
        guard root.childText("IsTruncated")?.lowercased() == "true" else {
            return MultipartUploadsPage(uploads: uploads, next: nil)
        }
        guard let keyMarker = root.childText("NextKeyMarker"), !keyMarker.isEmpty else {
            throw malformed("IsTruncated is true but NextKeyMarker is missing")
        }
        let next = (
            keyMarker: try decode(keyMarker, urlEncoded: urlEncoded, field: "NextKeyMarker"),
            uploadIDMarker: root.childText("NextUploadIdMarker") ?? ""
        )
        return MultipartUploadsPage(uploads: uploads, next: next)
    }

    private static func decode(_ raw: String, urlEncoded: Bool, field: String) throws(ClientError) -> String {
        guard urlEncoded else { return raw }
        guard let decoded = URIEncoding.decodeFormEncoded(raw) else {
            throw malformed("\(field) \"\(raw)\" is not valid url encoding")
        }
        return decoded
    }

    private static func malformed(_ detail: String) -> ClientError {
        ClientError(kind: .malformedResponse, detail: "ListMultipartUploads response: \(detail)")
    }
}
