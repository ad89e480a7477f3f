import ObjectStore
import S3FSTesting
import Testing

/// The mock must answer as S3 does, or the core's tests prove nothing.
@Suite struct MockObjectStoreTests {
    let store = MockObjectStore(pageLimit: 1000)

    init() {
        for key in ["b", "a/1", "a/2", "a/sub/x", "a/sub/y", "a/", "c/z", "\u{e9}", "B", "a/\u{e9}", "ab"] {
            store.put(key, key)
        }
    }

    /// Every page of `request`, followed by continuation token.
    func pages(_ request: ListRequest) async throws -> [ListPage] {
        var request = request
        var pages: [ListPage] = []
        repeat {
            let page = try await store.list(request)
            pages.append(page)
            request.continuationToken = page.nextContinuationToken
        } while request.continuationToken != nil
        return pages
    }

    @Test func keysSortByUTF8Bytes() {
        #expect(store.keys == ["B", "a/", "a/1", "a/2", "a/sub/x", "a/sub/y", "a/\u{e9}", "ab", "b", "c/z", "\u{e9}"])
    }

    @Test func aFlatListingHasEveryKeyUnderThePrefix() async throws {
        let page = try await store.list(ListRequest(prefix: "a/", delimiter: nil))
        #expect(page.objects.map(\.key) == ["a/", "a/1", "a/2", "a/sub/x", "a/sub/y", "a/\u{e9}"])
        #expect(page.commonPrefixes.isEmpty && page.nextContinuationToken == nil)
    }

    @Test func theDelimiterFoldsKeysIntoCommonPrefixes() async throws {
        let root = try await store.list(ListRequest(prefix: ""))
        #expect(root.objects.map(\.key) == ["B", "ab", "b", "\u{e9}"])
        #expect(root.commonPrefixes == ["a/", "c/"])
        let a = try await store.list(ListRequest(prefix: "a/"))
        #expect(a.objects.map(\.key) == ["a/", "a/1", "a/2", "a/\u{e9}"])
        #expect(a.commonPrefixes == ["a/sub/"])
    }

    @Test(arguments: 1...7)
    func pagesOfAnySizeCoverTheListingExactlyOnce(maxKeys: Int) async throws {
        let pages = try await pages(ListRequest(prefix: "", maxKeys: maxKeys))
        #expect(pages.allSatisfy { $0.objects.count + $0.commonPrefixes.count <= maxKeys })
        #expect(pages.flatMap(\.objects).map(\.key) == ["B", "ab", "b", "\u{e9}"])
        #expect(pages.flatMap(\.commonPrefixes) == ["a/", "c/"])
        #expect(pages.dropLast().allSatisfy { $0.nextContinuationToken != nil })
        #expect(pages.last?.objects.isEmpty == false || pages.last?.commonPrefixes.isEmpty == false)
    }

    @Test func aPageLimitCapsMaxKeys() async throws {
        let small = MockObjectStore(pageLimit: 2)
        for key in ["1", "2", "3", "4", "5"] { small.put(key, []) }
        let page = try await small.list(ListRequest(prefix: "", maxKeys: 1000))
        #expect(page.objects.map(\.key) == ["1", "2"])
        #expect(page.nextContinuationToken != nil)
    }

    @Test func startAfterSkipsKeysUpToAndIncludingIt() async throws {
        let flat = try await store.list(ListRequest(prefix: "a/", delimiter: nil, startAfter: "a/2"))
        #expect(flat.objects.map(\.key) == ["a/sub/x", "a/sub/y", "a/\u{e9}"])
        let grouped = try await store.list(ListRequest(prefix: "a/", startAfter: "a/sub/x"))
        #expect(grouped.commonPrefixes == ["a/sub/"])
        #expect(grouped.objects.map(\.key) == ["a/\u{e9}"])
    }

    @Test func anUnknownContinuationTokenIsRefused() async {
        await #expect(throws: ObjectStoreError.self) {
            try await store.list(ListRequest(prefix: "", continuationToken: "garbage"))
        }
    }

    @Test func headAndGetOfAMissingKeyAreNoSuchKey() async {
        await #expect(throws: ObjectStoreError.stub(ServiceError.Kind.noSuchKey)) { try await store.head(key: "nope") }
        await #expect(throws: ObjectStoreError.stub(ServiceError.Kind.noSuchKey)) {
            try await store.get(key: "nope", range: nil, ifMatch: nil)
        }
    }

    @Test func getHonoursRangeAndIfMatch() async throws {
        let info = store.put("data", Array(0..<100))
        #expect(try await store.get(key: "data", range: ByteRange(10..<13), ifMatch: info.etag) == [10, 11, 12])
        #expect(try await store.get(key: "data", range: ByteRange(98..<200), ifMatch: nil) == [98, 99])
        await #expect(throws: ObjectStoreError.stub(ServiceError.Kind.invalidRange)) {
            try await store.get(key: "data", range: ByteRange(100..<101), ifMatch: nil)
        }
        let replaced = store.replace("data", with: [1])
        #expect(replaced.etag != info.etag)
        #expect(replaced.lastModified > info.lastModified)
        await #expect(throws: ObjectStoreError.stub(ServiceError.Kind.preconditionFailed)) {
            try await store.get(key: "data", range: ByteRange(0..<1), ifMatch: info.etag)
        }
    }

    @Test func etagsAreQuotedAndUniquePerVersion() {
        let first = store.put("v", "same")
        let second = store.put("v", "same")
        #expect(first.etag != second.etag)
        #expect(first.etag.value.hasPrefix("\"") && first.etag.value.hasSuffix("\""))
    }

    @Test func callsAreCountedPerOperation() async throws {
        store.resetCalls()
        _ = try await store.head(key: "b")
        _ = try await store.get(key: "b", range: nil, ifMatch: nil)
        _ = try await store.get(key: "b", range: nil, ifMatch: nil)
        _ = try await store.list(ListRequest(prefix: ""))
        #expect(store.callCount(.head) == 1 && store.callCount(.get) == 2 && store.callCount(.list) == 1)
        #expect(store.totalCallCount == 4)
    }

    @Test func deleteRemovesTheKeyFromListings() async throws {
        store.delete("b")
        store.delete("never-there")
        #expect(!store.keys.contains("b"))
        #expect(try await store.list(ListRequest(prefix: "b")).objects.isEmpty)
    }
}

@Suite struct MockObjectStoreByteKeyTests {
    @Test func canonicallyEquivalentKeysAreDifferentObjects() async throws {
        let store = MockObjectStore()
        store.put("caf\u{e9}", "composed")
        store.put("cafe\u{301}", "decomposed")
        #expect(store.keys.map { Array($0.utf8) } == [Array("cafe\u{301}".utf8), Array("caf\u{e9}".utf8)])
        #expect(try await store.get(key: "caf\u{e9}", range: nil, ifMatch: nil) == Array("composed".utf8))
        #expect(try await store.get(key: "cafe\u{301}", range: nil, ifMatch: nil) == Array("decomposed".utf8))
        store.delete("caf\u{e9}")
        #expect(store.object("cafe\u{301}") != nil)
        #expect(store.object("caf\u{e9}") == nil)
    }
}
