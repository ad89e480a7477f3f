// Reads a ListObjectsV2 result page (ListBucketResult) into a ListPage.

import ObjectStore

enum ListObjectsV2Reader {
    static func read(_ body: [UInt8]) throws(ClientError) -> ListPage {
        let root = try XMLTree.parse(body, what: "ListObjectsV2 response")
        guard root.name == "ListBucketResult" else {
            throw malformed("root element is <\(root.name)>, expected <ListBucketResult>")
        }
        let urlEncoded = root.childText("EncodingType")?.lowercased() == "url"
        var objects: [ObjectInfo] = []
        objects.reserveCapacity(root.children.count)
        for entry in root.children(named: "Contents") {
            objects.append(try object(entry, urlEncoded: urlEncoded))
        }
        var prefixes: [String] = []
        for group in root.children(named: "CommonPrefixes") {
            guard let raw = group.childText("Prefix") else { throw malformed("<CommonPrefixes> without <Prefix>") }
            prefixes.append(try decode(raw, urlEncoded: urlEncoded, field: "CommonPrefixes/Prefix"))
        }
        let truncated = root.childText("IsTruncated")?.lowercased() == "true"
        let token = root.childText("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        if truncated && token == nil {
            throw malformed("IsTruncated is true but NextContinuationToken is missing")
        }
        return ListPage(objects: objects, commonPrefixes: prefixes, nextContinuationToken: truncated ? token : nil)
    }

    private static func object(_ entry: XMLElementNode, urlEncoded: Bool) throws(ClientError) -> ObjectInfo {
        guard let rawKey = entry.childText("Key") else { throw malformed("<Contents> without <Key>") }
        let key = try decode(rawKey, urlEncoded: urlEncoded, field: "Key")
        guard let sizeText = entry.childText("Size"), let size = UInt64(sizeText) else {
            throw malformed("<Contents> for \"\(key)\" has no valid <Size>")
        }
        guard let modifiedText = entry.childText("LastModified"),
            let modified = Timestamps.parseISO8601(modifiedText)
        else {
            throw malformed("<Contents> for \"\(key)\" has no valid <LastModified>")
        }
        return ObjectInfo(key: key, size: size, lastModified: modified, etag: ETag(entry.childText("ETag") ?? ""))
    }

    private static func decode(_ raw: String, urlEncoded: Bool, field: String) throws(ClientError) -> String {
        guard urlEncoded else { return raw }
        guard let decoded = URIEncoding.decodeFormEncoded(raw) else {
            throw malformed("\(field) \"\(raw)\" is not valid url encoding")
        }
        return decoded
    }

    private static func malformed(_ detail: String) -> ClientError {
        ClientError(kind: .malformedResponse, detail: "ListObjectsV2 response: \(detail)")
    }
}
