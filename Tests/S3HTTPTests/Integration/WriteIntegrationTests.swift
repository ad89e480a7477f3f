// The write operations against the real server: PutObject from bytes and from a file range, If-None-Match: *,
// DeleteObject, CopyObject, a multipart upload of file parts read back byte-exact, UploadPartCopy, abort, and
// ListMultipartUploads. Every test works under a random prefix and removes what it wrote.

import Foundation
import ObjectStore
import Testing

@testable import S3HTTP

@Suite(.enabled(if: IntegrationEnvironment.isConfigured, "S3_TEST_ENDPOINT is not set"))
struct WriteIntegrationTests {
    static func bytes(_ count: Int, seed: Int = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &+ seed) &* 131 &+ $0 >> 11) }
    }

    /// A temporary file holding `bytes`; the caller removes it.
    static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("s3http-write-\(UUID())").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func putFromBytesAndFromAFileRange() async throws {
        let store = try IntegrationEnvironment.store()
        let prefix = IntegrationEnvironment.randomPrefix()
        let content = Self.bytes(300_000)
        let fromBytes = prefix + "dir/from bytes ü+%.bin"
        let etag = try await store.put(key: fromBytes, body: .bytes(content), condition: .unconditional)
        #expect(try await store.head(key: fromBytes).etag == etag)
        #expect(try await store.get(key: fromBytes, range: nil, ifMatch: nil) == content)

        let path = try Self.temporaryFile(content)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fromFile = prefix + "from file"
        _ = try await store.put(key: fromFile, body: .file(path: path, offset: 1_000, length: 150_000), condition: .unconditional)
        #expect(try await store.get(key: fromFile, range: nil, ifMatch: nil) == Array(content[1_000..<151_000]))
        let empty = prefix + "empty"
        _ = try await store.put(key: empty, body: .bytes([]), condition: .unconditional)
        #expect(try await store.head(key: empty).size == 0)
        await IntegrationEnvironment.deleteAll(prefix: prefix)
    }

    @Test func ifNoneMatchRefusesAnExistingKey() async throws {
        let store = try IntegrationEnvironment.store()
        let prefix = IntegrationEnvironment.randomPrefix()
        let key = prefix + "once"
        _ = try await store.put(key: key, body: .bytes([1, 2, 3]), condition: .ifNoneMatch)
        #expect(
            await Kinds.of { _ = try await store.put(key: key, body: .bytes([4]), condition: .ifNoneMatch) }
                == .service(.preconditionFailed))
        #expect(try await store.get(key: key, range: nil, ifMatch: nil) == [1, 2, 3])
        await IntegrationEnvironment.deleteAll(prefix: prefix)
    }

    @Test func deleteRemovesTheKeyAndAMissingKeyIsNoError() async throws {
        let store = try IntegrationEnvironment.store()
        let prefix = IntegrationEnvironment.randomPrefix()
        let key = prefix + "doomed"
        _ = try await store.put(key: key, body: .bytes([7]), condition: .unconditional)
        try await store.delete(key: key)
        #expect(await Kinds.of { _ = try await store.head(key: key) } == .service(.noSuchKey))
        try await store.delete(key: key)
        try await store.delete(key: prefix + "never existed")
    }

    @Test func copyDuplicatesTheObjectAndHonoursTheSourceETag() async throws {
        let store = try IntegrationEnvironment.store()
        let prefix = IntegrationEnvironment.randomPrefix()
        let source = prefix + "src dir/a b+c.bin"
        let content = Self.bytes(200_000, seed: 5)
        let sourceETag = try await store.put(key: source, body: .bytes(content), condition: .unconditional)
        let copyETag = try await store.copy(from: source, to: prefix + "copy", sourceETag: sourceETag)
        #expect(!copyETag.value.isEmpty)
        #expect(try await store.get(key: prefix + "copy", range: nil, ifMatch: nil) == content)
        let stale = ETag("\"0123456789abcdef0123456789abcdef\"")
        let staleCopy = await Kinds.of { _ = try await store.copy(from: source, to: prefix + "copy2", sourceETag: stale) }
        #expect(staleCopy == .service(.preconditionFailed))
        #expect(
            await Kinds.of { _ = try await store.copy(from: prefix + "missing", to: prefix + "copy3", sourceETag: nil) }
                == .service(.noSuchKey))
        await IntegrationEnvironment.deleteAll(prefix: prefix)
    }

    @Test func multipartUploadOfFilePartsReadsBackExactly() async throws {
        let store = try IntegrationEnvironment.store()
        let prefix = IntegrationEnvironment.randomPrefix()
        let key = prefix + "big file.bin"
        let partSize = Int(UploadLimits.minPartBytes)
        let content = Self.bytes(2 * partSize + 1_500_000, seed: 9)
        let path = try Self.temporaryFile(content)
        defer { try? FileManager.default.removeItem(atPath: path) }

        let upload = try await store.createMultipartUpload(key: key)
        var parts: [CompletedPart] = []
        for (number, start) in [0, partSize, 2 * partSize].enumerated() {
            let length = min(partSize, content.count - start)
            let body = UploadBody.file(path: path, offset: UInt64(start), length: UInt64(length))
            let etag = try await store.uploadPart(key: key, upload: upload, number: number + 1, body: body)
            parts.append(CompletedPart(number: number + 1, etag: etag))
        }
        let etag = try await store.completeMultipartUpload(key: key, upload: upload, parts: parts)
        let info = try await store.head(key: key)
        #expect(info.size == UInt64(content.count))
        if let etag { #expect(etag == info.etag) }
        let back = try await store.get(key: key, range: nil, ifMatch: nil)
        #expect(Digest.sha256(back) == Digest.sha256(content))
        await IntegrationEnvironment.deleteAll(prefix: prefix)
    }

    @Test func uploadPartCopyTakesARangeOfAnotherObject() async throws {
        let store = try IntegrationEnvironment.store()
        let prefix = IntegrationEnvironment.randomPrefix()
        let partSize = Int(UploadLimits.minPartBytes)
        let source = prefix + "source"
        let content = Self.bytes(partSize + 100_000, seed: 3)
        let sourceETag = try await store.put(key: source, body: .bytes(content), condition: .unconditional)
        let key = prefix + "assembled"
        let upload = try await store.createMultipartUpload(key: key)
        let first = try await store.uploadPartCopy(
            key: key, upload: upload, number: 1, source: source, range: ByteRange(50_000..<UInt64(50_000 + partSize)),
            sourceETag: sourceETag)
        let tail = Self.bytes(1_000, seed: 1)
        let second = try await store.uploadPart(key: key, upload: upload, number: 2, body: .bytes(tail))
        _ = try await store.completeMultipartUpload(
            key: key, upload: upload, parts: [CompletedPart(number: 1, etag: first), CompletedPart(number: 2, etag: second)])
        let back = try await store.get(key: key, range: nil, ifMatch: nil)
        #expect(back == Array(content[50_000..<(50_000 + partSize)]) + tail)
        await IntegrationEnvironment.deleteAll(prefix: prefix)
    }

    @Test func abortEndsTheUploadAndListingSeesItOnlyBefore() async throws {
        let store = try IntegrationEnvironment.store()
        let prefix = IntegrationEnvironment.randomPrefix()
        let key = prefix + "dir/aborted ü a+b%c.bin"
        let upload = try await store.createMultipartUpload(key: key)
        _ = try await store.uploadPart(key: key, upload: upload, number: 1, body: .bytes(Self.bytes(1_000)))
        let listed = try await store.listMultipartUploads(prefix: prefix)
        #expect(listed.map(\.key) == [key] && listed.map(\.uploadID) == [upload], "\(listed)")
        #expect(abs((listed.first?.initiated ?? 0) - Date().timeIntervalSince1970) < 600)

        try await store.abortMultipartUpload(key: key, upload: upload)
        #expect(try await store.listMultipartUploads(prefix: prefix).isEmpty)
        #expect(
            await Kinds.of { _ = try await store.uploadPart(key: key, upload: upload, number: 2, body: .bytes([1])) }
                == .service(.noSuchUpload))
        try await store.abortMultipartUpload(key: key, upload: upload)
        #expect(await Kinds.of { _ = try await store.head(key: key) } == .service(.noSuchKey))
    }
}
