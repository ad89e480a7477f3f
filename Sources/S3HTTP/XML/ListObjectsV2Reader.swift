// Reads a ListObjectsV2 result page (ListBucketResult) into a ListPage.
//
// A page whose structure is broken (not XML, no <Key>, truncated without a token) is a malformed answer. One bad
// entry is not: a key that does not decode to UTF-8 or a <Size> that is not a plausible size leaves that entry out,
// a <LastModified> that is not a time becomes 0 (the epoch), and an <ETag> that cannot be sent back in a header
// (ServerETag) becomes none; each is reported in `ListPage.anomalies`, so the rest of the listing, and the endpoint's
// health, are unaffected.

import ObjectStore

package enum ListObjectsV2Reader {
    package static func read(_ body: [UInt8]) throws(ClientError) -> ListPage {
        let root = try XMLTree.parse(body, what: "ListObjectsV2 response")
        guard root.name == "ListBucketResult" else {
            throw malformed("root element is <\(root.name)>, expected <ListBucketResult>")
        }
        let urlEncoded = root.childText("EncodingType")?.lowercased() == "url"
        let truncated = root.childText("IsTruncated")?.lowercased() == "true"
        let token = root.childText("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        if truncated && token == nil {
            throw malformed("IsTruncated is true but NextContinuationToken is missing")
        }
        var page = ListPage(objects: [], commonPrefixes: [], nextContinuationToken: truncated ? token : nil)
        page.objects.reserveCapacity(root.children.count)
        for entry in root.children(named: "Contents") {
            guard let rawKey = entry.childText("Key") else { throw malformed("<Contents> without <Key>") }
            if let object = object(entry, rawKey: rawKey, urlEncoded: urlEncoded, anomalies: &page.anomalies) {
                page.objects.append(object)
            }
        }
        for group in root.children(named: "CommonPrefixes") {
            guard let raw = group.childText("Prefix") else { throw malformed("<CommonPrefixes> without <Prefix>") }
            guard let prefix = decode(raw, urlEncoded: urlEncoded) else {
                page.anomalies.append(ListAnomaly(key: raw, problem: undecodable, hidden: true))
                continue
            }
            page.commonPrefixes.append(prefix)
        }
        return page
    }

    private static let undecodable = "the key is not UTF-8 once percent-decoded"

    /// The entry's object, or nil (with an anomaly) when it cannot be shown.
    private static func object(
        _ entry: XMLElementNode, rawKey: String, urlEncoded: Bool, anomalies: inout [ListAnomaly]
    ) -> ObjectInfo? {
        guard let key = decode(rawKey, urlEncoded: urlEncoded) else {
            anomalies.append(ListAnomaly(key: rawKey, problem: undecodable, hidden: true))
            return nil
        }
        let sizeText = entry.childText("Size") ?? ""
        guard let size = ServerNumbers.size(sizeText) else {
            anomalies.append(ListAnomaly(key: key, problem: "<Size> \(quoted(sizeText)) is not an object size", hidden: true))
            return nil
        }
        let modifiedText = entry.childText("LastModified") ?? ""
        let modified = Timestamps.parseISO8601(modifiedText)
        if modified == nil {
            anomalies.append(
                ListAnomaly(
                    key: key, problem: "<LastModified> \(quoted(modifiedText)) is not a time; shown as 1970-01-01",
                    hidden: false))
        }
        let etagText = entry.childText("ETag")
        let etag = ServerETag.read(etagText)
        if etag == nil, ServerETag.isUnusable(etagText) {
            anomalies.append(
                ListAnomaly(
                    key: key, problem: "<ETag> \(quoted(etagText ?? "")) holds a control character; shown without one",
                    hidden: false))
        }
        return ObjectInfo(key: key, size: size, lastModified: modified ?? 0, etag: etag ?? ETag(""))
    }

    /// The key as the server meant it; nil when its percent-encoding is broken or does not decode to UTF-8.
    private static func decode(_ raw: String, urlEncoded: Bool) -> String? {
        urlEncoded ? URIEncoding.decodeFormEncoded(raw) : raw
    }

    /// The server's text for a log line: quoted, escaped, at most 64 characters.
    private static func quoted(_ text: String) -> String {
        String(text.prefix(64)).debugDescription
    }

    private static func malformed(_ detail: String) -> ClientError {
        ClientError(kind: .malformedResponse, detail: "ListObjectsV2 response: \(detail)")
    }
}
