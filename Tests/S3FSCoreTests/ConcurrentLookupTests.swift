import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// Lookups and forgets racing from many tasks keep one number per name and an exact lookup count.
@Suite struct ConcurrentLookupTests {
    @Test func concurrentLookupsOfOneNameShareANumberAndCountEach() async throws {
        let store = MockObjectStore()
        store.put("f", "x")
        let fs = makeFileSystem(store)
        let numbers = try await withThrowingTaskGroup(of: InodeNumber.self) { group in
            for _ in 0..<200 { group.addTask { try await fs.lookup(parent: .root, name: "f").attributes.inode } }
            return try await group.reduce(into: Set<InodeNumber>()) { $0.insert($1) }
        }
        #expect(numbers.count == 1)
        let number = try #require(numbers.first)
        #expect(fs.inodes.inode(number)?.lookupCount == 200)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<199 { group.addTask { fs.forget(number, count: 1) } }
        }
        #expect(fs.inodes.inode(number)?.lookupCount == 1)
        fs.forget(number, count: 1)
        #expect(fs.inodes.count == 1)
    }
}
