// DirectoryStream: one pass over a directory's ListObjectsV2 pages, turned into entries as the pages arrive, so
// `ls` of a prefix with millions of keys shows its first names after the first page and holds about one page of
// names at a time, never the whole directory.
//
// Each page goes through DirectoryListing (names, hidden keys, "a directory beats a file of the same name"). A file
// "f" and the directory "f/" can fall on different pages (keys such as "f.txt" sort between them), so a file is
// held back while a later page could still bring "f/": until a page reaches past "f/" in S3's byte order, or the
// listing ends. At most `maxHeld` files wait; past that the oldest is shown anyway (a pathological directory may
// then show a name twice; lookups still give the directory). Staged files (written, not yet in S3) that no page
// names are added when the listing ends. Continuation tokens go through ListingBounds, as in ObjectStore.listAll: a repeated
// token or too many pages ends the listing with an error, never a loop.
import ObjectStore

struct DirectoryStream: Sendable {
    let directoryKey: String
    let directoryMtime: Double
    let maxHeld: Int
    private(set) var continuationToken: String?
    private(set) var isComplete = false
    private var bounds: ListingBounds
    /// Files waiting for the listing to pass "name/", oldest first.
    private var held: [ResolvedEntry] = []
    /// Staged files no page has named yet, by the UTF-8 bytes of their names.
    private var staged: [[UInt8]: ResolvedEntry]

    init(directoryKey: String, directoryMtime: Double, staged: [ResolvedEntry], maxHeld: Int = 4096) {
        self.directoryKey = directoryKey
        self.directoryMtime = directoryMtime
        self.maxHeld = maxHeld
        bounds = ListingBounds(prefix: directoryKey)
        self.staged = Dictionary(staged.map { (Array($0.name.utf8), $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The request for the next page; nil once the listing is complete.
    var nextRequest: ListRequest? {
        isComplete ? nil : ListRequest(prefix: directoryKey, delimiter: "/", continuationToken: continuationToken)
    }

    /// What one page adds to the stream.
    struct Batch: Sendable {
        /// Entries to show, in the order they become certain.
        var entries: [ResolvedEntry] = []
        /// Everything S3 said about the page's names (upserted as metadata, shown or not).
        var listed: [ResolvedEntry] = []
        var hidden: [DirectoryListing.KeyNote] = []
        var shownWithStandIns: [DirectoryListing.KeyNote] = []
    }

    /// Takes the next page; throws when its token shows the listing would never end.
    mutating func take(_ page: ListPage) throws(ObjectStoreError) -> Batch {
        try bounds.check(page)
        continuationToken = page.nextContinuationToken
        isComplete = page.nextContinuationToken == nil
        let listing = DirectoryListing(directoryKey: directoryKey, page: page, directoryMtime: directoryMtime)
        var batch = Batch(
            listed: listing.entries, hidden: listing.hidden, shownWithStandIns: listing.shownWithStandIns)
        let reached = Self.lastKey(of: page)
        let directories = Set(listing.entries.filter { $0.kind == .directory }.map { Array($0.name.utf8) })
        var stillHeld: [ResolvedEntry] = []
        for file in held {
            if directories.contains(Array(file.name.utf8)) {
                batch.hidden.append(.init(key: file.key, reason: "a directory of the same name exists"))
            } else if canShow(file, reached: reached) {
                batch.entries.append(file)
            } else {
                stillHeld.append(file)
            }
        }
        held = stillHeld
        for entry in listing.entries {
            staged[Array(entry.name.utf8)] = nil
            if entry.kind == .file, !canShow(entry, reached: reached) {
                held.append(entry)
            } else {
                batch.entries.append(entry)
            }
        }
        if held.count > maxHeld {
            batch.entries += held.prefix(held.count - maxHeld)
            held.removeFirst(held.count - maxHeld)
        }
        if isComplete {
            batch.entries += staged.values.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
            staged = [:]
        }
        return batch
    }

    /// A file can be shown once the listing has ended or passed the key of a directory of the same name.
    private func canShow(_ file: ResolvedEntry, reached: [UInt8]?) -> Bool {
        guard !isComplete else { return true }
        guard let reached else { return false }
        let directoryOfSameName = Array(file.key.utf8) + [UInt8(ascii: "/")]
        return !reached.lexicographicallyPrecedes(directoryOfSameName)
    }

    /// The greatest key or common prefix of the page, as bytes (S3's order).
    private static func lastKey(of page: ListPage) -> [UInt8]? {
        let keys = page.objects.map { Array($0.key.utf8) } + page.commonPrefixes.map { Array($0.utf8) }
        return keys.max { $0.lexicographicallyPrecedes($1) }
    }
}
