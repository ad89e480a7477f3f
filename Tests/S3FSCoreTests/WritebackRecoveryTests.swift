// Crash recovery: a staging directory as a killed daemon leaves it (copied while that mount was stuck uploading)
// is mounted again; what close acknowledged reaches S3, nothing else does, and no multipart upload is left.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

@Suite struct WritebackRecoveryTests {
    let store = MockObjectStore()

    /// The state of `staging` right now, as a crash would leave it, in a new directory.
    func crashCopy(of staging: String) throws -> String {
        let copy = makeStagingDirectory() + "-crash"
        try FileManager.default.copyItem(atPath: staging, toPath: copy)
        try? FileManager.default.removeItem(atPath: copy + "/lock")
        return copy
    }

    @Test func aClosedFileIsUploadedByTheNextMount() async throws {
        let faults = FaultInjectingStore(wrapping: store)
        faults.failAll(.put, with: .stub(.serverError))
        let staging = makeStagingDirectory()
        let first = try await makeWritableFileSystem(faults, staging: staging)
        try await first.writeNewFile("model.pt", patternBytes(4096))
        let copy = try crashCopy(of: staging)

        let second = try await makeWritableFileSystem(store, staging: copy)
        #expect(try await readWholeFile(second, "model.pt") == patternBytes(4096))
        await second.drainAll()
        #expect(try await store.get(key: "model.pt", range: nil, ifMatch: nil) == patternBytes(4096))
        #expect(stagedDataFiles(copy).isEmpty)
    }

    @Test func aSmallFileIsRecoveredFromTheJournalAloneWhenItsStagingFileWasLost() async throws {
        let faults = FaultInjectingStore(wrapping: store)
        faults.failAll(.put, with: .stub(.serverError))
        let staging = makeStagingDirectory()
        let first = try await makeWritableFileSystem(faults, staging: staging)
        try await first.writeNewFile("small.json", patternBytes(3000))
        try await first.writeNewFile("empty.txt", [])
        let copy = try crashCopy(of: staging)
        // Power loss: the staging files were never fsync'd (the journal record carried their bytes).
        for name in stagedDataFiles(copy) { try FileManager.default.removeItem(atPath: copy + "/data/" + name) }

        let second = try await makeWritableFileSystem(store, staging: copy)
        await second.drainAll()
        #expect(try await store.get(key: "small.json", range: nil, ifMatch: nil) == patternBytes(3000))
        #expect(try await store.get(key: "empty.txt", range: nil, ifMatch: nil) == [])
    }

    @Test func aMultipartUploadIsResumedFromItsJournalledParts() async throws {
        let faults = FaultInjectingStore(wrapping: store)
        faults.failAll(with: .stub(.serverError)) { if case .uploadPart(_, let n, _) = $0 { n >= 3 } else { false } }
        faults.failAll(.put, with: .stub(.serverError))
        let staging = makeStagingDirectory()
        let first = try await makeWritableFileSystem(faults, staging: staging)
        let bytes = patternBytes(22 << 20)
        try await first.writeNewFile("ckpt", bytes)
        // Parts 1 and 2 get into S3 (streamed while writing) and into the journal; parts 3+ keep failing.
        #expect(await eventually { journalledParts(staging).isSuperset(of: [1, 2]) })
        let copy = try crashCopy(of: staging)
        let journalled = journalledParts(copy)
        store.resetCalls()
        let second = try await makeWritableFileSystem(store, staging: copy)
        await second.drainAll()
        #expect(try await store.get(key: "ckpt", range: nil, ifMatch: nil) == bytes)
        // The parts the journal recorded were in S3 already: only the rest was sent again.
        // (The first mount is not really dead here: its retries only ever reach other keys.)
        let resent = Set(store.calls.compactMap { if case .uploadPart("ckpt", let n, _) = $0 { n } else { nil } })
        #expect(resent.isDisjoint(with: journalled), "parts sent again: \(resent), journalled: \(journalled)")
        #expect(resent.isSuperset(of: Set(3...5).subtracting(journalled)))
        #expect(store.callCount(.multipart) > 0)
        #expect(store.pendingMultipartUploads.filter { $0.key == "ckpt" }.isEmpty)
        #expect(stagedDataFiles(copy).isEmpty)
    }

    @Test func aResumedUploadKeepsItsPartLayoutWhenThePartSizeChanged() async throws {
        let faults = FaultInjectingStore(wrapping: store)
        faults.failAll(with: .stub(.serverError)) { if case .uploadPart(_, let n, _) = $0 { n >= 3 } else { false } }
        let staging = makeStagingDirectory()
        let first = try await makeWritableFileSystem(faults, staging: staging, partSize: 5 << 20)
        let bytes = patternBytes((24 << 20) + 7)
        try await first.writeNewFile("resized", bytes)
        #expect(await eventually { journalledParts(staging).isSuperset(of: [1, 2]) })
        let copy = try crashCopy(of: staging)
        let second = try await makeWritableFileSystem(store, staging: copy, partSize: 8 << 20)
        await second.drainAll()
        #expect(try await store.get(key: "resized", range: nil, ifMatch: nil) == bytes)
    }

    /// The part numbers `staging`'s journal records as uploaded, read as a new mount would.
    func journalledParts(_ staging: String) -> Set<Int> {
        let fd = open(staging + "/journal", O_RDONLY)
        defer { close(fd) }
        return Set(Journal.read(fd).0.filter { $0.kind == .part }.compactMap(\.part))
    }

    @Test func aFileStillBeingWrittenIsDroppedAndItsUploadAborted() async throws {
        let staging = makeStagingDirectory()
        let first = try await makeWritableFileSystem(store, staging: staging)
        let (_, open) = try await first.create(parent: .root, name: "partial", flags: O_WRONLY)
        try first.writeAll(open.handle, patternBytes(16 << 20))
        #expect(await eventually { !store.pendingMultipartUploads.isEmpty && store.calls.contains { if case .uploadPart = $0 { true } else { false } } })
        let copy = try crashCopy(of: staging)

        let second = try await makeWritableFileSystem(store, staging: copy)
        await second.drainAll()
        #expect(store.object("partial") == nil)
        // The first mount still runs here (in a real crash it is gone): only its upload of "partial" may remain open.
        #expect(store.pendingMultipartUploads.filter { $0.key == "partial" }.count <= 1)
        #expect(stagedDataFiles(copy).isEmpty)
        first.release(handle: open.handle)
    }

    @Test func anUploadCreatedButNeverJournalledIsAborted() async throws {
        let staging = makeStagingDirectory()
        // A crash between CreateMultipartUpload's answer and its journal record: only the intent is journalled.
        do {
            let journal = try Journal(path: staging + "/journal")
            try journal.append(JournalRecord(kind: .multipartIntent, id: 3, key: "orphan"))
        }
        let leftover = try await store.createMultipartUpload(key: "orphan")
        _ = leftover
        let fs = try await makeWritableFileSystem(store, staging: staging)
        _ = fs
        #expect(store.pendingMultipartUploads.isEmpty)
    }

    @Test func twoMountsCannotShareOneStagingDirectory() async throws {
        let staging = makeStagingDirectory()
        let first = try await makeWritableFileSystem(store, staging: staging)
        let second = makeFileSystem(store, config: writableConfig(staging: staging))
        #expect(await thrownErrno { try await second.startWrites() } == EBUSY)
        withExtendedLifetime(first) {}
    }
}
