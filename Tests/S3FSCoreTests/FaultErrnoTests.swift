#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// Store failures met by real operations reach the caller as the mapped errno.
@Suite struct FaultErrnoTests {
    let mock = MockObjectStore(pageLimit: 100)
    let faults: FaultInjectingStore

    init() {
        mock.put("f", "0123456789")
        for index in 0..<250 { mock.put("many/\(index)", []) }
        // 150 siblings sorting between "g" and "g/": the first LIST page cannot settle a lookup of "g", so the
        // resolver sends a second LIST of "g/".
        mock.put("g", "0123")
        for index in 0..<150 { mock.put("g-\(index)", []) }
        faults = FaultInjectingStore(wrapping: mock)
    }

    static let failures: [(ObjectStoreError, Int32)] = [
        (.stub(ServiceError.Kind.accessDenied), EACCES),
        (.stub(ServiceError.Kind.serverError), EIO),
        (.stub(ServiceError.Kind.throttled), EIO),
        (.stub(ClientError.Kind.connectionRefused), EIO),
        (.stub(ClientError.Kind.timedOut), EIO),
        (.stub(ClientError.Kind.truncatedBody), EIO),
    ]

    @Test(arguments: failures)
    func lookupWhenTheSecondListFails(error: ObjectStoreError, errno: Int32) async throws {
        let fs = makeFileSystem(faults)
        #expect(try await fs.lookup(parent: .root, name: "g").attributes.size == 4)
        let fresh = makeFileSystem(faults)
        faults.failAll(with: error) { call in if case .list(let request) = call { request.prefix == "g/" } else { false } }
        #expect(await thrownErrno { try await fresh.lookup(parent: .root, name: "g") } == errno)
    }

    @Test(arguments: failures)
    func lookupWhenListFails(error: ObjectStoreError, errno: Int32) async {
        let fs = makeFileSystem(faults)
        faults.failAll(.list, with: error)
        #expect(await thrownErrno { try await fs.lookup(parent: .root, name: "f") } == errno)
    }

    @Test(arguments: failures + [(.stub(ServiceError.Kind.preconditionFailed), ESTALE)])
    func readWhenGetFails(error: ObjectStoreError, errno: Int32) async throws {
        let fs = makeFileSystem(faults)
        let inode = try await fs.lookup(parent: .root, name: "f").attributes.inode
        let handle = try await fs.open(inode, flags: O_RDONLY).handle
        faults.failCall(1, of: .get, with: error)
        #expect(await thrownErrno { try await fs.read(handle: handle, offset: 0, size: 4) } == errno)
        // Only that one call failed: the next read succeeds.
        #expect(try await fs.read(handle: handle, offset: 0, size: 4).bytes == Array("0123".utf8))
    }

    @Test(arguments: failures)
    func readdirWhenTheThirdPageFails(error: ObjectStoreError, errno: Int32) async throws {
        let fs = makeFileSystem(faults)
        let many = try await fs.lookup(parent: .root, name: "many").attributes.inode
        faults.failCall(3, of: .list, with: error)
        #expect(await thrownErrno { try await readWholeDirectory(fs, many, capacity: 1000) } == errno)
        #expect(faults.injectedFailures.count == 1)
        // Without the fault, the same listing is complete.
        #expect(try await readWholeDirectory(fs, many, capacity: 1000).count == 252)
    }

    @Test(arguments: failures + [(.stub(ServiceError.Kind.noSuchKey), ENOENT)])
    func getattrAndOpenWhenTheRefreshingHeadFails(error: ObjectStoreError, errno: Int32) async throws {
        let fs = makeFileSystem(faults, config: TestConfig.noTTL)
        let inode = try await fs.lookup(parent: .root, name: "f").attributes.inode
        faults.failAll(.head, with: error)
        #expect(await thrownErrno { try await fs.getattr(inode) } == errno)
        #expect(await thrownErrno { try await fs.open(inode, flags: O_RDONLY) } == errno)
    }

    @Test func aMissingBucketIsENOENT() async {
        let fs = makeFileSystem(faults)
        faults.failAll(with: .stub(ServiceError.Kind.noSuchBucket)) { _ in true }
        #expect(await thrownErrno { try await readWholeDirectory(fs, .root) } == ENOENT)
    }
}
