import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

@Suite struct LargeDirectoryTests {
    @Test func tenThousandKeysListAsTenThousandEntriesAcrossPages() async throws {
        let store = MockObjectStore(pageLimit: 1000)
        let names = (0..<10_000).map { "file-\(String(1_000_000 + $0).dropFirst())" }
        for name in names { store.put("big/" + name, []) }
        let fs = makeFileSystem(store)
        let big = try await fs.lookup(parent: .root, name: "big").attributes.inode
        store.resetCalls()
        let entries = try await readWholeDirectory(fs, big, capacity: 700)
        #expect(entries.count == 10_002)
        #expect(Array(entries.dropFirst(2).map(\.name)) == names)
        #expect(Set(entries.map(\.attributes.inode)).count == 10_002)
        #expect(store.callCount(.list) == 10)
        let tokens = store.calls.compactMap { call -> String?? in
            if case .list(let request) = call { return .some(request.continuationToken) } else { return nil }
        }
        #expect(tokens.first == .some(nil))
        #expect(tokens.dropFirst().allSatisfy { $0 != nil })
    }
}
