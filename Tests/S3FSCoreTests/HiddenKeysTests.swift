#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// Keys whose segments cannot be POSIX names are hidden, and walking the mount never reaches outside its prefix.
@Suite struct HiddenKeysTests {
    let store = MockObjectStore()

    init() {
        for key in [
            "secret", "mnt/../secret", "mnt/./dot", "mnt//empty", "mnt/a//b", "mnt/a/ok", "mnt/..", "mnt/.",
            "mnt/./", "mnt/../", "mnt/" + String(repeating: "x", count: 256), "mnt/../../etc/passwd", "mnt/fine",
        ] {
            store.put(key, "content of \(key)")
        }
    }

    /// Every path reachable by readdir, with the key each file reads from.
    func walk(_ fs: FileSystem, _ directory: InodeNumber, path: String) async throws -> [String: String] {
        var found: [String: String] = [:]
        for entry in try await readWholeDirectory(fs, directory) where !entry.isDotEntry {
            #expect(PathNames.isValid(entry.name), "listed invalid name \(entry.name)")
            let child = path + "/" + entry.name
            let looked = try await fs.lookup(parent: directory, name: entry.name)
            #expect(looked.attributes.inode == entry.attributes.inode)
            if entry.attributes.kind == .directory {
                found[child + "/"] = "dir"
                found.merge(try await walk(fs, entry.attributes.inode, path: child)) { a, _ in a }
            } else {
                let bytes = try await readWholeFile(fs, parent: directory, entry.name)
                found[child] = String(decoding: bytes, as: UTF8.self)
            }
        }
        return found
    }

    @Test func theMountShowsOnlyValidPathsUnderItsPrefix() async throws {
        let fs = makeFileSystem(store, config: FileSystemConfig(prefix: "mnt", metadataTTL: 60))
        let tree = try await walk(fs, .root, path: "")
        #expect(
            tree == [
                "/a/": "dir", "/a/ok": "content of mnt/a/ok", "/fine": "content of mnt/fine",
            ])
    }

    @Test(arguments: [".", "..", ""])
    func dotAndEmptyNamesAreNotFound(name: String) async throws {
        let fs = makeFileSystem(store, config: FileSystemConfig(prefix: "mnt", metadataTTL: 60))
        #expect(await thrownErrno { try await fs.lookup(parent: .root, name: name) } == ENOENT)
        let a = try await fs.lookup(parent: .root, name: "a").attributes.inode
        #expect(await thrownErrno { try await fs.lookup(parent: a, name: name) } == ENOENT)
    }

    @Test func theBucketRootHidesTheSameKeys() async throws {
        let fs = makeFileSystem(store)
        let names = try await readWholeDirectory(fs, .root).map(\.name)
        #expect(names == [".", "..", "mnt", "secret"])
        let mnt = try await fs.lookup(parent: .root, name: "mnt").attributes.inode
        let inside = try await readWholeDirectory(fs, mnt).map(\.name)
        #expect(inside == [".", "..", "a", "fine"])
    }
}
