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

@Suite struct WritebackTests {
    let store = MockObjectStore()
    let staging = makeStagingDirectory()

    @Test func closeMakesTheFileDurableLocallyAndTheUploadFollows() async throws {
        let fs = try await makeWritableFileSystem(store, staging: staging)
        let bytes = patternBytes(300_000)
        let (_, open) = try await fs.create(parent: .root, name: "out.bin", flags: O_WRONLY)
        try fs.writeAll(open.handle, bytes, chunk: 4096)
        try await fs.flush(handle: open.handle)
        // After close: journalled as owed, bytes on disk, before any upload could be asked for (a handle is open).
        #expect(fs.writeback!.staging.journal.current.pending.values.map(\.key) == ["out.bin"])
        #expect(store.object("out.bin") == nil)
        fs.release(handle: open.handle)
        await fs.drainAll()
        #expect(try await store.get(key: "out.bin", range: nil, ifMatch: nil) == bytes)
        #expect(stagedDataFiles(staging).isEmpty)
        #expect(fs.writeback!.staging.journal.current.pending.isEmpty)
    }

    /// The race behind a read that came back empty right after close: a stat looked up the inode while the file
    /// was staged, the upload finished and the staged copy went, and the stat answered from the inode it held —
    /// which still had the size of the newly created file, 0.
    @Test func aStatThatHeldTheInodeAcrossTheUploadShowsTheUploadedSize() async throws {
        let fs = try await makeWritableFileSystem(store, staging: staging)
        let number = try await fs.writeNewFile("fresh.bin", patternBytes(16))
        let heldAcrossUpload = try #require(fs.inodes.inode(number))
        #expect(fs.attributes(of: heldAcrossUpload).size == 16)
        await fs.drainAll()
        #expect(fs.writeback!.staging.file(forKey: "fresh.bin") == nil)
        #expect(fs.attributes(of: heldAcrossUpload).size == 16)
        #expect(try await fs.getattr(number).size == 16)
        #expect(try await store.get(key: "fresh.bin", range: nil, ifMatch: nil) == patternBytes(16))
    }

    @Test func fsyncReturnsOnceTheObjectIsInS3() async throws {
        let fs = try await makeWritableFileSystem(store, staging: staging)
        let (_, open) = try await fs.create(parent: .root, name: "ckpt", flags: O_WRONLY)
        try fs.writeAll(open.handle, patternBytes(1000))
        try await fs.fsync(handle: open.handle)
        #expect(try await store.get(key: "ckpt", range: nil, ifMatch: nil) == patternBytes(1000))
        try fs.writeAll(open.handle, patternBytes(10, seed: 9), at: 1000)
        try await fs.fsync(handle: open.handle)
        #expect(try await store.get(key: "ckpt", range: nil, ifMatch: nil) == patternBytes(1000) + patternBytes(10, seed: 9))
        fs.release(handle: open.handle)
    }

    @Test func syncModeCloseWaitsForS3() async throws {
        let fs = try await makeWritableFileSystem(store, staging: staging, mode: .sync)
        let (_, open) = try await fs.create(parent: .root, name: "s", flags: O_WRONLY)
        try fs.writeAll(open.handle, patternBytes(64))
        try await fs.flush(handle: open.handle)
        #expect(try await store.get(key: "s", range: nil, ifMatch: nil) == patternBytes(64))
        fs.release(handle: open.handle)
    }

    @Test func aFailingUploadStaysStagedVisibleAndReadableThenSucceeds() async throws {
        let faults = FaultInjectingStore(wrapping: store)
        faults.failAll(.put, with: .stub(.serverError))
        let fs = try await makeWritableFileSystem(faults, staging: staging)
        let bytes = patternBytes(5000)
        let inode = try await fs.writeNewFile("pending.txt", bytes)
        #expect(await fs.drainWrites(timeout: 0.3) == 1)
        #expect(store.object("pending.txt") == nil)
        // Read-your-writes: listed, stat'ed and read with the local bytes.
        let names = try await readWholeDirectory(fs, .root).map(\.name)
        #expect(names.contains("pending.txt"))
        #expect(try await fs.getattr(inode).size == 5000)
        #expect(try await readWholeFile(fs, "pending.txt") == bytes)
        #expect(stagedDataFiles(staging).count == 1)
        faults.removeAllFaults()
        await fs.drainAll()
        #expect(try await store.get(key: "pending.txt", range: nil, ifMatch: nil) == bytes)
        #expect(stagedDataFiles(staging).isEmpty)
    }

    /// A staged file that S3 also lists (an older version, or the upload not yet done) is listed with what this
    /// mount holds: readdirplus hands its size to the kernel, which would cut reads short at the older size.
    @Test func aListingShowsAStagedFileWithItsLocalSizeNotTheOlderObjects() async throws {
        store.put("grow.bin", patternBytes(10))
        let faults = FaultInjectingStore(wrapping: store)
        faults.failAll(.put, with: .stub(.serverError))
        let fs = try await makeWritableFileSystem(faults, staging: staging)
        let inode = try await fs.lookup(parent: .root, name: "grow.bin").attributes.inode
        let handle = try await fs.open(inode, flags: O_RDWR).handle
        try fs.writeAll(handle, patternBytes(5000, seed: 3), at: 0)
        try await fs.flush(handle: handle)
        fs.release(handle: handle)
        for plus in [false, true] {
            let entry = try #require(try await readWholeDirectory(fs, .root, plus: plus).first { $0.name == "grow.bin" })
            #expect(entry.attributes.size == 5000, "readdir\(plus ? "plus" : "") showed the object's size")
        }
        #expect(try await fs.getattr(inode).size == 5000)
        #expect(try await readWholeFile(fs, "grow.bin") == patternBytes(5000, seed: 3))
        faults.removeAllFaults()
        await fs.drainAll()
    }

    /// Only a handle that can write has anything for close to make durable: the others are opened FOPEN_NOFLUSH.
    @Test func onlyHandlesThatCanWriteNeedAFlushAtClose() async throws {
        store.put("object.bin", patternBytes(100))
        let fs = try await makeWritableFileSystem(store, staging: staging)
        let inode = try await fs.lookup(parent: .root, name: "object.bin").attributes.inode
        let reader = try await fs.open(inode, flags: O_RDONLY)
        #expect(reader.needsFlush == false)
        fs.release(handle: reader.handle)
        let writer = try await fs.open(inode, flags: O_RDWR)
        #expect(writer.needsFlush)
        let stagedReader = try await fs.open(inode, flags: O_RDONLY)
        #expect(stagedReader.needsFlush == false, "a read-only handle of a staged file")
        fs.release(handle: stagedReader.handle)
        fs.release(handle: writer.handle)
        let (_, created) = try await fs.create(parent: .root, name: "new.bin", flags: O_WRONLY | O_CREAT)
        #expect(created.needsFlush)
        fs.release(handle: created.handle)
        await fs.drainAll()
    }

    @Test func editingAnExistingObjectKeepsItsOtherBytes() async throws {
        let original = patternBytes(10_000)
        store.put("data.bin", original)
        let fs = try await makeWritableFileSystem(store, staging: staging)
        let inode = try await fs.lookup(parent: .root, name: "data.bin").attributes.inode
        let handle = try await fs.open(inode, flags: O_RDWR).handle
        try fs.writeAll(handle, [1, 2, 3], at: 500)
        try fs.writeAll(handle, [9, 9], at: 12_000)  // past the end: a zero-filled gap
        try await fs.flush(handle: handle)
        fs.release(handle: handle)
        await fs.drainAll()
        var expected = original
        expected.replaceSubrange(500..<503, with: [1, 2, 3])
        expected += [UInt8](repeating: 0, count: 2000) + [9, 9]
        #expect(try await store.get(key: "data.bin", range: nil, ifMatch: nil) == expected)
    }

    @Test func unchangedPartsOfABigObjectAreCopiedServerSide() async throws {
        var bytes = patternBytes(23 << 20)
        store.put("big.bin", bytes)
        let fs = try await makeWritableFileSystem(store, staging: staging)
        let inode = try await fs.lookup(parent: .root, name: "big.bin").attributes.inode
        let handle = try await fs.open(inode, flags: O_RDWR).handle
        try fs.writeAll(handle, [1, 2, 3, 4], at: (11 << 20) - 2)  // straddles parts 2 and 3 (5 MiB parts)
        bytes.replaceSubrange(((11 << 20) - 2)..<((11 << 20) + 2), with: [1, 2, 3, 4])
        try await fs.flush(handle: handle)
        fs.release(handle: handle)
        await fs.drainAll()
        #expect(try await store.get(key: "big.bin", range: nil, ifMatch: nil) == bytes)
        let sent = store.calls.compactMap { if case .uploadPart(_, let n, _) = $0 { n } else { nil } }
        let copied = store.calls.compactMap { if case .uploadPartCopy(_, let n, _, _) = $0 { n } else { nil } }
        #expect(sent.sorted() == [3])
        #expect(copied.sorted() == [1, 2, 4, 5])
    }

    @Test func truncateShrinksAndGrows() async throws {
        store.put("t", patternBytes(100))
        let fs = try await makeWritableFileSystem(store, staging: staging)
        let inode = try await fs.lookup(parent: .root, name: "t").attributes.inode
        #expect(try await fs.setattr(inode, changes: AttributeChanges(size: 40)).size == 40)
        await fs.drainAll()
        #expect(try await store.get(key: "t", range: nil, ifMatch: nil) == Array(patternBytes(100)[0..<40]))
        _ = try await fs.setattr(inode, changes: AttributeChanges(size: 60))
        await fs.drainAll()
        #expect(try await store.get(key: "t", range: nil, ifMatch: nil) == Array(patternBytes(100)[0..<40]) + [UInt8](repeating: 0, count: 20))
    }

    @Test func anObjectChangedMeanwhileKeepsBothVersions() async throws {
        store.put("shared.txt", "base")
        let fs = try await makeWritableFileSystem(store, staging: staging)
        let inode = try await fs.lookup(parent: .root, name: "shared.txt").attributes.inode
        let handle = try await fs.open(inode, flags: O_WRONLY | O_TRUNC).handle
        try fs.writeAll(handle, Array("mine".utf8))
        store.replace("shared.txt", with: Array("theirs".utf8))
        try await fs.flush(handle: handle)
        fs.release(handle: handle)
        await fs.drainAll()
        #expect(try await store.get(key: "shared.txt", range: nil, ifMatch: nil) == Array("theirs".utf8))
        let conflicts = store.keys.filter { $0.hasPrefix("shared.txt.s3mount-conflict-") }
        #expect(conflicts.count == 1)
        #expect(try await store.get(key: conflicts[0], range: nil, ifMatch: nil) == Array("mine".utf8))
        #expect(stagedDataFiles(staging).isEmpty)
    }

    @Test func aNewFileCreatedElsewhereMeanwhileIsAConflictToo() async throws {
        let fs = try await makeWritableFileSystem(store, staging: staging)
        let (_, open) = try await fs.create(parent: .root, name: "n", flags: O_WRONLY)
        try fs.writeAll(open.handle, [1])
        store.put("n", [2])
        try await fs.flush(handle: open.handle)
        fs.release(handle: open.handle)
        await fs.drainAll()
        #expect(try await store.get(key: "n", range: nil, ifMatch: nil) == [2])
        #expect(store.keys.filter { $0.hasPrefix("n.s3mount-conflict-") }.count == 1)
    }

    @Test func aSequentialNewFileStreamsPartsBeforeClose() async throws {
        let fs = try await makeWritableFileSystem(store, staging: staging)
        let bytes = patternBytes(23 << 20)
        let (_, open) = try await fs.create(parent: .root, name: "big", flags: O_WRONLY)
        try fs.writeAll(open.handle, bytes)
        // Parts 1–3 (5 MiB each) are complete and followed by more bytes: they go before close.
        #expect(await eventually { store.calls.contains { if case .uploadPart(_, 3, _) = $0 { true } else { false } } })
        try await fs.flush(handle: open.handle)
        fs.release(handle: open.handle)
        await fs.drainAll()
        #expect(try await store.get(key: "big", range: nil, ifMatch: nil) == bytes)
        #expect(store.pendingMultipartUploads.isEmpty)
        #expect(store.callCount(.put) == 0)
    }

    @Test func aRewriteBelowWhatWasStreamedEndsTheStreamAndUploadsTheWholeFile() async throws {
        let fs = try await makeWritableFileSystem(store, staging: staging)
        var bytes = patternBytes(16 << 20)
        let (_, open) = try await fs.create(parent: .root, name: "rw", flags: O_RDWR)
        try fs.writeAll(open.handle, bytes)
        #expect(await eventually { store.calls.contains { if case .uploadPart = $0 { true } else { false } } })
        try fs.writeAll(open.handle, [0xAA, 0xBB], at: 10)
        bytes[10] = 0xAA
        bytes[11] = 0xBB
        try await fs.flush(handle: open.handle)
        fs.release(handle: open.handle)
        await fs.drainAll()
        #expect(try await store.get(key: "rw", range: nil, ifMatch: nil) == bytes)
        #expect(await eventually { store.pendingMultipartUploads.isEmpty })
    }

    @Test func unlinkOfAFileNeverUploadedSendsNothing() async throws {
        let faults = FaultInjectingStore(wrapping: store)
        faults.failAll(.put, with: .stub(.serverError))
        let fs = try await makeWritableFileSystem(faults, staging: staging)
        try await fs.writeNewFile("gone", [1, 2, 3])
        try await fs.unlink(parent: .root, name: "gone")
        faults.removeAllFaults()
        await fs.drainAll()
        #expect(store.object("gone") == nil)
        #expect(store.callCount(.delete) == 0)
        #expect(stagedDataFiles(staging).isEmpty)
        #expect(await thrownErrno { try await fs.lookup(parent: .root, name: "gone") } == ENOENT)
    }

    @Test func anUnlinkedOpenFileIsGoneAtOnceStaysUsableAndIsNeverUploaded() async throws {
        let fs = try await makeWritableFileSystem(store, staging: staging)
        let (_, open) = try await fs.create(parent: .root, name: "scratch", flags: O_RDWR)
        try fs.writeAll(open.handle, [1, 2, 3])
        try await fs.unlink(parent: .root, name: "scratch")
        #expect(await thrownErrno { try await fs.lookup(parent: .root, name: "scratch") } == ENOENT)
        try fs.writeAll(open.handle, [4], at: 3)
        #expect(try await fs.read(handle: open.handle, offset: 0, size: 10).bytes == [1, 2, 3, 4])
        try await fs.flush(handle: open.handle)
        fs.release(handle: open.handle)
        await fs.drainAll()
        #expect(store.keys.isEmpty)
        #expect(stagedDataFiles(staging).isEmpty)
    }

    @Test func renameOfAStagedFileUploadsOnlyTheNewKey() async throws {
        let faults = FaultInjectingStore(wrapping: store)
        faults.failAll(.put, with: .stub(.serverError))
        let fs = try await makeWritableFileSystem(faults, staging: staging)
        let inode = try await fs.writeNewFile("a.tmp", [5, 6, 7])
        try await fs.rename(parent: .root, name: "a.tmp", newParent: .root, newName: "a.final", flags: 0)
        faults.removeAllFaults()
        await fs.drainAll()
        #expect(store.keys == ["a.final"])
        #expect(try await store.get(key: "a.final", range: nil, ifMatch: nil) == [5, 6, 7])
        #expect(try await fs.lookup(parent: .root, name: "a.final").attributes.inode == inode)
    }

    @Test func renameOfAnObjectCopiesThenDeletes() async throws {
        store.put("x", "payload")
        let fs = try await makeWritableFileSystem(store, staging: staging)
        _ = try await fs.lookup(parent: .root, name: "x")
        try await fs.rename(parent: .root, name: "x", newParent: .root, newName: "y", flags: 0)
        #expect(store.keys == ["y"])
        #expect(try await store.get(key: "y", range: nil, ifMatch: nil) == Array("payload".utf8))
    }

    @Test func renameOfADirectoryMovesEveryKey() async throws {
        store.put("d/", [])
        store.put("d/a", "1")
        store.put("d/sub/b", "2")
        let fs = try await makeWritableFileSystem(store, staging: staging)
        _ = try await fs.lookup(parent: .root, name: "d")
        try await fs.rename(parent: .root, name: "d", newParent: .root, newName: "e", flags: 0)
        #expect(store.keys == ["e/", "e/a", "e/sub/b"])
        let moved = try await fs.lookup(parent: .root, name: "e").attributes.inode
        #expect(try await readWholeDirectory(fs, moved).map(\.name) == [".", "..", "a", "sub"])
    }

    @Test func mkdirMakesAMarkerAndRmdirRefusesANonEmptyDirectory() async throws {
        let fs = try await makeWritableFileSystem(store, staging: staging)
        let dir = try await fs.mkdir(parent: .root, name: "newdir").attributes.inode
        #expect(store.keys == ["newdir/"])
        try await fs.writeNewFile("f", [1], parent: dir)
        #expect(await thrownErrno { try await fs.rmdir(parent: .root, name: "newdir") } == ENOTEMPTY)
        await fs.drainAll()
        try await fs.unlink(parent: dir, name: "f")
        try await fs.rmdir(parent: .root, name: "newdir")
        #expect(store.keys.isEmpty)
    }

    @Test func aKeyOverTheS3LimitIsENAMETOOLONG() async throws {
        let fs = try await makeWritableFileSystem(store, staging: staging)
        var parent = InodeNumber.root
        for index in 0..<5 {
            parent = try await fs.mkdir(parent: parent, name: String(repeating: "d\(index)", count: 100)).attributes.inode
        }
        #expect(await thrownErrno { try await fs.create(parent: parent, name: String(repeating: "f", count: 100), flags: O_WRONLY) } == ENAMETOOLONG)
    }

    @Test func chmodAndChownThatChangeSomethingAreEPERM() async throws {
        store.put("p", "x")
        let fs = try await makeWritableFileSystem(store, staging: staging)
        let inode = try await fs.lookup(parent: .root, name: "p").attributes.inode
        #expect(await thrownErrno { try await fs.setattr(inode, changes: AttributeChanges(mode: 0o600)) } == EPERM)
        #expect(await thrownErrno { try await fs.setattr(inode, changes: AttributeChanges(uid: 1)) } == EPERM)
        #expect(await thrownErrno { try await fs.setattr(inode, changes: AttributeChanges(mode: 0o640)) } == nil)
    }

    @Test func aReadOnlyMountRefusesWrites() async throws {
        let fs = makeFileSystem(store)
        #expect(await thrownErrno { try await fs.create(parent: .root, name: "n", flags: O_WRONLY) } == EROFS)
        #expect(await thrownErrno { try await fs.mkdir(parent: .root, name: "d") } == EROFS)
    }
}
