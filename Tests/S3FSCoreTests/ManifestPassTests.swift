@testable import S3FSCore
import Testing

/// ManifestPass: prefetch runs down the manifest within the allowance, reads move it on, and a job that reads
/// again from the top starts a new pass.
@Suite struct ManifestPassTests {
    static let file: UInt64 = 100

    /// Claims until the allowance is used up, each entry `file` bytes.
    static func claimAll(_ pass: inout ManifestPass, allowance: UInt64) -> [Int] {
        var claimed: [Int] = []
        while let position = pass.claim(allowance: allowance, estimate: 1000) {
            pass.prefetched(position, bytes: file)
            claimed.append(position)
        }
        return claimed
    }

    @Test func prefetchStartsAtTheTopBeforeAnyRead() {
        var pass = ManifestPass(count: 100)
        #expect(Self.claimAll(&pass, allowance: 10 * Self.file) == Array(0..<10))
        #expect(pass.unusedBytes == 10 * Self.file)
    }

    @Test func eachReadOfAPrefetchedEntryMakesRoomForTheNext() {
        var pass = ManifestPass(count: 100)
        _ = Self.claimAll(&pass, allowance: 10 * Self.file)
        #expect(pass.noteRead(0) == .hit(Self.file))
        #expect(pass.noteRead(2) == .hit(Self.file))
        #expect(Self.claimAll(&pass, allowance: 10 * Self.file) == [10, 11])
    }

    @Test func aJobThatOutrunsPrefetchPullsTheFrontUpToItsFurthestRead() {
        var pass = ManifestPass(count: 1000)
        _ = Self.claimAll(&pass, allowance: 4 * Self.file)
        for position in 4..<50 { #expect(pass.noteRead(position) == .missed) }
        #expect(pass.claim(allowance: 100 * Self.file, estimate: 1) == 50)
    }

    @Test func entriesSkippedFarBehindTheJobStopHoldingMemory() {
        var pass = ManifestPass(count: 10_000)
        _ = Self.claimAll(&pass, allowance: 10 * Self.file)
        // The job never reads 0..<10 and goes on far past them.
        for position in 10..<(10 + ManifestPass.skipDistance * 2) { _ = pass.noteRead(position) }
        #expect(pass.unusedBytes == 0)
        #expect(pass.prefetched.isEmpty)
    }

    @Test func readingFromTheTopAgainAfterHalfStartsTheNextPass() {
        var pass = ManifestPass(count: 10)
        for position in 0..<4 { _ = pass.noteRead(position) }
        // A second handle of an entry read this pass is not a new pass.
        #expect(pass.noteRead(1) == .ignored)
        for position in 4..<10 { _ = pass.noteRead(position) }
        #expect(pass.claim(allowance: .max, estimate: 1) == nil)
        #expect(pass.noteRead(0) == .missed)
        #expect(pass.read == [0])
        #expect(Self.claimAll(&pass, allowance: .max) == Array(1..<10))
    }

    @Test func anEntryReleasedForWantOfMemoryIsTriedAgain() {
        var pass = ManifestPass(count: 10)
        let first = pass.claim(allowance: .max, estimate: 5)
        let second = pass.claim(allowance: .max, estimate: 5)
        pass.release(second!, retry: true)
        pass.release(first!, retry: false)
        #expect(pass.unusedBytes == 0)
        #expect(pass.claim(allowance: .max, estimate: 5) == 1)
    }

    @Test func positionsOutsideTheManifestAreIgnored() {
        var pass = ManifestPass(count: 3)
        #expect(pass.noteRead(3) == .ignored)
        #expect(pass.noteRead(-1) == .ignored)
    }
}
