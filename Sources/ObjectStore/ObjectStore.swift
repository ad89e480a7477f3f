// ObjectStore: the one seam between the filesystem core and whatever serves objects.
//
// The core (S3FSCore) talks only to this protocol. S3HTTP implements it over libcurl for real S3 servers,
// S3FSTesting implements it in memory (and with injected faults) for tests, and later decorators (an endpoint
// pool for failover, a caching layer) wrap one store in another without the core noticing.
// Every method is async and never blocks the calling thread: implementations park the caller on a continuation
// and resume it from their own I/O thread.

/// A store of objects addressed by key inside one bucket.
public protocol ObjectStore: Sendable {
    /// The bucket this store serves; used in log lines and error messages only.
    var bucket: String { get }

    /// One page of ListObjectsV2.
    func list(_ request: ListRequest) async throws(ObjectStoreError) -> ListPage

    /// HeadObject: the object's metadata, or `ObjectStoreError.noSuchKey`.
    func head(key: String) async throws(ObjectStoreError) -> ObjectInfo

    /// GetObject of `range` (the whole object when nil). With `ifMatch`, a changed object fails with
    /// `ObjectStoreError.preconditionFailed` instead of returning bytes of another version.
    func get(key: String, range: ByteRange?, ifMatch: ETag?) async throws(ObjectStoreError) -> [UInt8]

    /// The same GET, its body delivered to `sink` as it arrives (see ByteSink). Exactly `range.count` bytes are
    /// delivered on success; on failure, any prefix of them may have been.
    func get(key: String, range: ByteRange?, ifMatch: ETag?, into sink: any ByteSink) async throws(ObjectStoreError)

    // MARK: Writes (ObjectWrites.swift)

    /// PutObject of `body` (at most 5 GiB) under `condition`; the new object's ETag.
    func put(key: String, body: UploadBody, condition: WriteCondition) async throws(ObjectStoreError) -> ETag

    /// DeleteObject. Deleting a key that does not exist succeeds, as in S3.
    func delete(key: String) async throws(ObjectStoreError)

    /// CopyObject of `source` (at most 5 GiB) to `key`; with `sourceETag`, only that version is copied
    /// (x-amz-copy-source-if-match). The new object's ETag.
    func copy(from source: String, to key: String, sourceETag: ETag?) async throws(ObjectStoreError) -> ETag

    /// CreateMultipartUpload.
    func createMultipartUpload(key: String) async throws(ObjectStoreError) -> MultipartUploadID

    /// UploadPart `number` (1...10,000); the part's ETag.
    func uploadPart(key: String, upload: MultipartUploadID, number: Int, body: UploadBody)
        async throws(ObjectStoreError) -> ETag

    /// UploadPartCopy: part `number` is `range` of the object `source` (only version `sourceETag` when given).
    func uploadPartCopy(
        key: String, upload: MultipartUploadID, number: Int, source: String, range: ByteRange, sourceETag: ETag?
    ) async throws(ObjectStoreError) -> ETag

    /// CompleteMultipartUpload of `parts` (in part order); the object's ETag when the server sent one (Ceph RGW
    /// sends an empty one: nil).
    func completeMultipartUpload(key: String, upload: MultipartUploadID, parts: [CompletedPart])
        async throws(ObjectStoreError) -> ETag?

    /// AbortMultipartUpload. An upload that no longer exists (NoSuchUpload) counts as aborted.
    func abortMultipartUpload(key: String, upload: MultipartUploadID) async throws(ObjectStoreError)

    /// ListMultipartUploads under `prefix`, every page.
    func listMultipartUploads(prefix: String) async throws(ObjectStoreError) -> [MultipartUploadInfo]
}

/// How far a listing is followed: every pass over a listing's pages (listAll, a directory read page by page) runs its
/// continuation tokens through one of these.
public struct ListingBounds: Sendable {
    /// 100,000 pages: 100 million keys at 1,000 a page. A server whose continuation tokens never end would otherwise
    /// keep a listing, and the process waiting on it, forever.
    public static let maxPages = 100_000

    let prefix: String
    let pageLimit: Int
    private var tokens: Set<String> = []
    public private(set) var pages = 0

    public init(prefix: String, pageLimit: Int = ListingBounds.maxPages) {
        self.prefix = prefix
        self.pageLimit = pageLimit
    }

    /// Counts `page`; a token that comes back (the server would send the same pages forever) or a listing longer
    /// than `pageLimit` pages is a malformed answer.
    public mutating func check(_ page: ListPage) throws(ObjectStoreError) {
        pages += 1
        guard let token = page.nextContinuationToken else { return }
        guard tokens.insert(token).inserted else { throw endless("page \(pages) repeats an earlier continuation token") }
        guard pages < pageLimit else { throw endless("more than \(pageLimit) pages") }
    }

    private func endless(_ detail: String) -> ObjectStoreError {
        .client(ClientError(kind: .malformedResponse, detail: "ListObjectsV2 of \"\(prefix)\" never ends: \(detail)"))
    }
}

extension ObjectStore {
    /// Every page of a listing, following continuation tokens; with `maxPages`, at most that many, and the
    /// result's `nextContinuationToken` says whether more remained. Tokens are checked by ListingBounds.
    public func listAll(
        prefix: String, delimiter: String?, maxPages: Int = .max, pageLimit: Int = ListingBounds.maxPages
    ) async throws(ObjectStoreError) -> ListPage {
        var merged = ListPage(objects: [], commonPrefixes: [], nextContinuationToken: nil)
        var bounds = ListingBounds(prefix: prefix, pageLimit: pageLimit)
        while true {
            let request = ListRequest(prefix: prefix, delimiter: delimiter, continuationToken: merged.nextContinuationToken)
            let page = try await list(request)
            merged.objects += page.objects
            merged.commonPrefixes += page.commonPrefixes
            merged.anomalies += page.anomalies
            merged.nextContinuationToken = page.nextContinuationToken
            guard page.nextContinuationToken != nil, bounds.pages + 1 < maxPages else { break }
            try bounds.check(page)
        }
        return merged
    }
}
