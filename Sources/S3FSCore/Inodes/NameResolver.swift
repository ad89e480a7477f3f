// NameResolver: what a name in a directory is in S3 right now — a directory, a file, or nothing.
//
// One LIST answers almost every lookup: keys beginning with "dir/name", grouped at "/", hold the object
// "dir/name" itself (a file; it sorts first, so the first page always shows it) and the common prefix "dir/name/"
// (a directory, which wins). Only when that page is truncated before reaching "dir/name/" (many siblings such as
// "name-1", "name.txt" sort between "name" and "name/") does a second LIST of "dir/name/" with max-keys 1 settle
// whether it is a directory. That is one request per lookup where always sending HEAD and LIST costs two.
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
        let directory = ResolvedEntry.directory(name: name, prefix: key + "/", mtime: mountTime)
        if page.commonPrefixes.contains(key + "/") { return directory }
        let file = page.objects.first { $0.key.utf8.elementsEqual(key.utf8) }.map { ResolvedEntry.file(name: name, object: $0) }
        guard page.nextContinuationToken != nil else { return file }
        return try await hasChildren(key + "/") ? directory : file
    }

    /// Whether anything lies under `prefix` (LIST with max-keys 1).
    private func hasChildren(_ prefix: String) async throws(FSError) -> Bool {
        do {
            let page = try await store.list(ListRequest(prefix: prefix, delimiter: "/", maxKeys: 1))
            return !page.objects.isEmpty || !page.commonPrefixes.isEmpty
        } catch {
            throw FSError(error, operation: "list", key: prefix)
        }
    }
}
