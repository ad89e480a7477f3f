// NameResolver: what a name in a directory is in S3 right now — a directory, a file, or nothing.
//
// One LIST answers almost every lookup: keys beginning with "dir/name", grouped at "/", hold the object
// "dir/name" itself (a file) and the common prefix "dir/name/" (a directory, which wins). Only when that page is
// truncated before it settles the question (many siblings such as "name-1", "name.txt" sort between "name" and
// "name/") does it fall back to asking both questions directly, at once: HEAD dir/name and LIST dir/name/ with
// max-keys 1. That halves the requests of a lookup compared with always sending HEAD and LIST.
import ObjectStore

extension FileSystem {
    func resolve(name: String, in directory: Inode) async throws(FSError) -> ResolvedEntry? {
        let key = directory.key + name
        let page: ListPage
        do {
            page = try await store.list(ListRequest(prefix: key, delimiter: "/", maxKeys: 100))
        } catch {
            throw FSError(error, operation: "list", key: key)
        }
        if page.commonPrefixes.contains(key + "/") { return .directory(name: name, prefix: key + "/", mtime: mountTime) }
        guard page.nextContinuationToken != nil else {
            return page.objects.first { $0.key.utf8.elementsEqual(key.utf8) }.map { .file(name: name, object: $0) }
        }
        return try await resolveDirectly(name: name, key: key)
    }

    /// HEAD key and LIST key/ at once.
    private func resolveDirectly(name: String, key: String) async throws(FSError) -> ResolvedEntry? {
        let store = self.store
        async let head = capture { () async throws(ObjectStoreError) in try await store.head(key: key) }
        async let children = capture { () async throws(ObjectStoreError) in
            try await store.list(ListRequest(prefix: key + "/", delimiter: "/", maxKeys: 1))
        }
        switch await children {
        case .success(let page) where !page.objects.isEmpty || !page.commonPrefixes.isEmpty:
            return .directory(name: name, prefix: key + "/", mtime: mountTime)
        case .success:
            break
        case .failure(let error):
            throw FSError(error, operation: "list", key: key + "/")
        }
        switch await head {
        case .success(let object): return .file(name: name, object: object)
        case .failure(.service(let e)) where e.kind == .noSuchKey: return nil
        case .failure(let error): throw FSError(error, operation: "head", key: key)
        }
    }
}

/// Runs `body` and keeps its typed error as a value, so two S3 calls can run at once with `async let`.
func capture<T: Sendable>(_ body: () async throws(ObjectStoreError) -> T) async -> Result<T, ObjectStoreError> {
    do { return .success(try await body()) } catch { return .failure(error) }
}
