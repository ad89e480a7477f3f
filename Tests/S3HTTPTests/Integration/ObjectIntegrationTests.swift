// HeadObject and GetObject against the real server: metadata, ranges, If-Match, missing keys.

import Foundation
import ObjectStore
import S3HTTP
import Testing

@Suite(.enabled(if: IntegrationEnvironment.isConfigured, "S3_TEST_ENDPOINT is not set"))
struct ObjectIntegrationTests {
    static let content: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }

    /// Uploads one object under a fresh prefix; returns its key and ETag.
    func fixture() async throws -> (key: String, etag: String, prefix: String) {
        let prefix = IntegrationEnvironment.randomPrefix()
        let key = prefix + "dir/data file ü.bin"
        let etags = try await IntegrationEnvironment.upload([key: Self.content])
        return (key, try #require(etags[key]), prefix)
    }

    @Test func headReportsSizeDateAndETag() async throws {
        let (key, etag, prefix) = try await fixture()
        let store = try IntegrationEnvironment.store()
        let info = try await store.head(key: key)
        #expect(info.key == key)
        #expect(info.size == UInt64(Self.content.count))
        #expect(info.etag == ETag(etag))
        #expect(abs(info.lastModified - Date().timeIntervalSince1970) < 600)
        await IntegrationEnvironment.deleteAll(prefix: prefix)
    }

    @Test func getReturnsExactBytes() async throws {
        let (key, etag, prefix) = try await fixture()
        let store = try IntegrationEnvironment.store()
        #expect(try await store.get(key: key, range: nil, ifMatch: nil) == Self.content)
        let ranges: [Range<UInt64>] = [0..<1, 1000..<70_000, 299_990..<300_000, 299_000..<400_000]
        for range in ranges {
            let bytes = try await store.get(key: key, range: ByteRange(range), ifMatch: ETag(etag))
            let end = Int(min(range.upperBound, UInt64(Self.content.count)))
            #expect(bytes == Array(Self.content[Int(range.lowerBound)..<end]), "\(range)")
        }
        await IntegrationEnvironment.deleteAll(prefix: prefix)
    }

    @Test func changedETagFailsThePrecondition() async throws {
        let (key, _, prefix) = try await fixture()
        let store = try IntegrationEnvironment.store()
        let stale = ETag("\"0123456789abcdef0123456789abcdef\"")
        #expect(
            await Kinds.of { _ = try await store.get(key: key, range: ByteRange(0..<10), ifMatch: stale) }
                == .service(.preconditionFailed))
        await IntegrationEnvironment.deleteAll(prefix: prefix)
    }

    @Test func rangePastTheEndIsInvalid() async throws {
        let (key, _, prefix) = try await fixture()
        let store = try IntegrationEnvironment.store()
        let pastEnd = ByteRange(400_000..<400_010)
        #expect(
            await Kinds.of { _ = try await store.get(key: key, range: pastEnd, ifMatch: nil) } == .service(.invalidRange))
        await IntegrationEnvironment.deleteAll(prefix: prefix)
    }

    @Test func missingKeyIsNoSuchKey() async throws {
        let store = try IntegrationEnvironment.store()
        let key = IntegrationEnvironment.randomPrefix() + "missing"
        #expect(await Kinds.of { _ = try await store.head(key: key) } == .service(.noSuchKey))
        #expect(
            await Kinds.of { _ = try await store.get(key: key, range: nil, ifMatch: nil) } == .service(.noSuchKey))
    }
}
