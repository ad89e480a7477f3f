// ManifestListings: the ETag and size of each --prefetch-manifest entry, from its directory's listing.
//
// A manifest names files, most often thousands per directory; one LIST (a few pages) of a directory answers for
// all of them, where a HEAD per entry would double the requests of an epoch of small files. Listings are kept,
// least recently used first out, up to `maxEntries` objects in all (a shuffled manifest visits its directories in
// turn, so they are worth keeping). A directory with more than `maxPages` pages of keys is not kept at all: its
// entries are resolved with a HEAD each.
import ObjectStore
import Synchronization

final class ManifestListings: Sendable {
    enum Lookup: Sendable, Equatable {
        case found(ObjectVersion)
        case missing
        /// S3 did not answer (the prefetch is skipped, nothing is counted missing).
        case failed
    }

    private struct Directory {
        /// Objects by key; nil when the directory is too large to keep.
        var objects: [String: ObjectVersion]?
        var lastUse: UInt64
    }

    private struct State {
        var directories: [String: Directory] = [:]
        var entries = 0
        var tick: UInt64 = 0
    }

    static let maxEntries = 200_000
    static let maxPages = 100

    let store: any ObjectStore
    private let state = Mutex(State())

    init(store: any ObjectStore) {
        self.store = store
    }

    func object(_ key: String) async -> Lookup {
        let directory = key.lastIndex(of: "/").map { String(key[...$0]) } ?? ""
        switch cached(directory) {
        case .some(.some(let objects)): return objects[key].map { .found($0) } ?? .missing
        case .some(.none): return await head(key)
        case .none: break
        }
        let page: ListPage
        do {
            page = try await store.listAll(prefix: directory, delimiter: "/", maxPages: Self.maxPages)
        } catch {
            return .failed
        }
        guard page.nextContinuationToken == nil else {
            keep(directory, objects: nil)
            return await head(key)
        }
        let objects = Dictionary(
            page.objects.map { ($0.key, ObjectVersion(key: $0.key, etag: $0.etag, size: $0.size)) },
            uniquingKeysWith: { first, _ in first })
        keep(directory, objects: objects)
        return objects[key].map { .found($0) } ?? .missing
    }

    /// nil: not listed yet; .some(nil): too large to keep.
    private func cached(_ directory: String) -> [String: ObjectVersion]?? {
        state.withLock { state in
            guard state.directories[directory] != nil else { return nil }
            state.tick += 1
            state.directories[directory]!.lastUse = state.tick
            return .some(state.directories[directory]!.objects)
        }
    }

    private func keep(_ directory: String, objects: [String: ObjectVersion]?) {
        state.withLock { state in
            state.tick += 1
            if let old = state.directories[directory] { state.entries -= old.objects?.count ?? 0 }
            state.directories[directory] = Directory(objects: objects, lastUse: state.tick)
            state.entries += objects?.count ?? 0
            while state.entries > Self.maxEntries, state.directories.count > 1,
                let oldest = state.directories.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
            {
                state.entries -= state.directories.removeValue(forKey: oldest)?.objects?.count ?? 0
            }
        }
    }

    private func head(_ key: String) async -> Lookup {
        do {
            let info = try await store.head(key: key)
            return .found(ObjectVersion(key: key, etag: info.etag, size: info.size))
        } catch {
            if case .service(let service) = error, service.kind == .noSuchKey { return .missing }
            return .failed
        }
    }
}
