// ListObjectsV2 against the real server: delimiter grouping, awkward keys, pagination, start-after.

import Foundation
import ObjectStore
import S3HTTP
import Testing

@Suite(.enabled(if: IntegrationEnvironment.isConfigured, "S3_TEST_ENDPOINT is not set"))
struct ListIntegrationTests {
    @Test func delimiterGroupsPrefixesAndDecodesKeys() async throws {
        let prefix = IntegrationEnvironment.randomPrefix()
        let names = ["dir1/a", "dir1/b", "dir2/c", "top1", "top 2 ü", "plus+key", "tab\tkey", "percent%41", "ctl\u{1}x"]
        _ = try await IntegrationEnvironment.upload(
            Dictionary(uniqueKeysWithValues: names.map { (prefix + $0, Array($0.utf8)) }))
        let store = try IntegrationEnvironment.store()

        let page = try await store.list(ListRequest(prefix: prefix))

        #expect(Set(page.commonPrefixes) == [prefix + "dir1/", prefix + "dir2/"])
        let files = names.filter { !$0.contains("/") }
        #expect(Set(page.objects.map(\.key)) == Set(files.map { prefix + $0 }))
        for object in page.objects {
            #expect(object.size == UInt64(object.key.dropFirst(prefix.count).utf8.count))
            #expect(abs(object.lastModified - Date().timeIntervalSince1970) < 600)
            #expect(object.etag.value.hasPrefix("\""))
        }
        #expect(page.nextContinuationToken == nil)
        await IntegrationEnvironment.deleteAll(prefix: prefix)
    }

    @Test func paginates2500KeysExactly() async throws {
        let prefix = IntegrationEnvironment.randomPrefix()
        let keys = (0..<2500).map { prefix + String(format: "k%05d", $0) }
        _ = try await IntegrationEnvironment.upload(Dictionary(uniqueKeysWithValues: keys.map { ($0, [UInt8(1)]) }))
        let store = try IntegrationEnvironment.store()

        var pages: [Int] = []
        var seen: [String] = []
        var token: String?
        repeat {
            let page = try await store.list(ListRequest(prefix: prefix, delimiter: nil, continuationToken: token))
            pages.append(page.objects.count)
            seen += page.objects.map(\.key)
            token = page.nextContinuationToken
        } while token != nil

        #expect(pages == [1000, 1000, 500])
        #expect(seen == keys)
        let all = try await store.listAll(prefix: prefix, delimiter: "/")
        #expect(all.objects.count == 2500)

        let after = try await store.list(
            ListRequest(prefix: prefix, delimiter: nil, startAfter: keys[2489], maxKeys: 5))
        #expect(after.objects.map(\.key) == Array(keys[2490..<2495]))
        #expect(after.nextContinuationToken != nil)
        await IntegrationEnvironment.deleteAll(prefix: prefix)
    }
}
