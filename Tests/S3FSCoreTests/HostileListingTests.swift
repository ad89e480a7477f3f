// Listings from a server that misbehaves: continuation tokens that come back or never end fail the listing with
// EIO instead of looping forever, and entries the store could not take (ListPage.anomalies) or that hold control
// characters are hidden or shown with a stand-in, one warning per key, without failing the rest of the directory.
#if canImport(Glibc)
import Glibc
#endif
import Logging
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Synchronization
import Testing

@Suite struct HostileListingTests {
    @Test func aRepeatedContinuationTokenFailsTheListingWithEIO() async throws {
        // Page n names "d/f<n>" and always hands out the same token: a server that would send pages forever.
        let store = ScriptedListStore { _, call in
            ListPage(objects: [object("d/f\(call)")], commonPrefixes: [], nextContinuationToken: "again")
        }
        let fs = makeFileSystem(store)
        let handle = try await fs.opendir(.root)
        defer { fs.releasedir(handle: handle) }
        var replier = ArrayDirectoryReplier(capacity: 100)
        #expect(await thrownErrno { try await fs.readdir(handle: handle, offset: 0, plus: false, into: &replier) } == EIO)
        // The first page gave the token, the second repeated it: two requests, not an endless loop.
        #expect(store.listCalls == 2)
    }

    @Test func aCycleOfTokensIsCaughtWhenItComesBack() async throws {
        let tokens = ["a", "b", "c", "a"]
        let store = ScriptedListStore { _, call in
            ListPage(objects: [], commonPrefixes: [], nextContinuationToken: tokens[call % tokens.count])
        }
        await #expect(throws: ObjectStoreError.self) { try await store.listAll(prefix: "", delimiter: "/") }
        #expect(store.listCalls == 4)
    }

    @Test func aListingLongerThanThePageLimitFails() async throws {
        let store = ScriptedListStore { _, call in
            ListPage(objects: [], commonPrefixes: [], nextContinuationToken: "t\(call)")
        }
        do {
            _ = try await store.listAll(prefix: "p/", delimiter: "/", pageLimit: 5)
            Issue.record("a listing without end was accepted")
        } catch {
            guard case .client(let failure) = error else { return #expect(Bool(false), "\(error)") }
            #expect(failure.kind == .malformedResponse)
            #expect(failure.detail.contains("more than 5 pages"), "\(failure.detail)")
        }
        #expect(store.listCalls == 5)
    }

    @Test func maxPagesStillStopsEarlyWithoutAnError() async throws {
        let store = ScriptedListStore { _, call in
            ListPage(objects: [object("f\(call)")], commonPrefixes: [], nextContinuationToken: "t\(call)")
        }
        let page = try await store.listAll(prefix: "", delimiter: "/", maxPages: 3, pageLimit: 3)
        #expect(page.objects.count == 3)
        #expect(page.nextContinuationToken == "t2")
    }

    @Test func aBadEntryIsHiddenOrShownWithAStandInAndWarnedOnce() async throws {
        let store = ScriptedListStore { _, _ in
            ListPage(
                objects: [object("ok"), object("dated", lastModified: 0), object("esc\u{1B}[2J"), object("tab\tname")],
                commonPrefixes: ["dir/", "ctl\u{7}dir/"], nextContinuationToken: nil,
                anomalies: [
                    ListAnomaly(key: "bad%FF", problem: "not UTF-8", hidden: true),
                    ListAnomaly(key: "dated", problem: "LastModified is not a time", hidden: false),
                ])
        }
        let log = CapturedLog()
        let fs = FileSystem(
            store: store, config: TestConfig.longTTL, logger: Logger(label: "test") { _ in log }, mountTime: TestConfig.mountTime)
        for _ in 0..<3 {
            let names = try await readWholeDirectory(fs, .root).map(\.name)
            #expect(names == [".", "..", "dated", "dir", "ok"])
        }
        let warned = log.lines.filter { $0.level == .warning }.map(\.key)
        #expect(warned.sorted() == ["bad%FF", "ctl\\u{7}dir/", "dated", "esc\\u{1B}[2J", "tab\\u{9}name"])
        #expect(try await fs.getattr(fs.lookup(parent: .root, name: "dated").attributes.inode).mtime == 0)
    }
}

private func object(_ key: String, lastModified: Double = 1_700_000_000) -> ObjectInfo {
    ObjectInfo(key: key, size: 1, lastModified: lastModified, etag: ETag("\"e\""))
}

/// Answers every LIST from `script(request, call index)`; everything else goes to an empty MockObjectStore.
private final class ScriptedListStore: WrappingStore {
    let wrapped: any ObjectStore = MockObjectStore()
    private let script: @Sendable (ListRequest, Int) -> ListPage
    private let calls = Atomic<Int>(0)

    init(_ script: @escaping @Sendable (ListRequest, Int) -> ListPage) { self.script = script }

    var listCalls: Int { calls.load(ordering: .relaxed) }

    func list(_ request: ListRequest) async throws(ObjectStoreError) -> ListPage {
        script(request, calls.add(1, ordering: .relaxed).oldValue)
    }

    func head(key: String) async throws(ObjectStoreError) -> ObjectInfo { try await wrapped.head(key: key) }

    func get(key: String, range: ByteRange?, ifMatch: ETag?) async throws(ObjectStoreError) -> [UInt8] {
        try await wrapped.get(key: key, range: range, ifMatch: ifMatch)
    }
}

/// Keeps every log line's level and s3.key.
private final class CapturedLog: LogHandler, @unchecked Sendable {
    // SAFETY (unchecked Sendable): `captured` is only touched under its Mutex; the other members are never mutated
    // after the handler is installed.
    struct Line { var level: Logger.Level; var key: String }
    private let captured = Mutex<[Line]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var lines: [Line] { captured.withLock { $0 } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        captured.withLock { $0.append(Line(level: event.level, key: event.metadata?["s3.key"].map { "\($0)" } ?? "")) }
    }
}
