@testable import S3FSCore
import Testing

/// EvictionPolicy on hand-made scans: which files go, in which order, and when none do.
@Suite struct EvictionPolicyTests {
    static func file(_ name: String, _ size: Int64, at recency: Int64, reused: Bool = false) -> TierFile {
        TierFile(path: name, size: size, recency: recency, reused: reused)
    }

    @Test func nothingGoesWhenTheFilesAlreadyFit() {
        let files = [Self.file("a", 10, at: 1), Self.file("b", 10, at: 2)]
        #expect(EvictionPolicy.leastRecentlyUsed.victims(files, leaving: 20).isEmpty)
        #expect(EvictionPolicy.tier.victims(files, leaving: 20).isEmpty)
    }

    @Test func leastRecentlyUsedTakesTheOldestUntilTheTargetIsMet() {
        let files = [
            Self.file("new", 10, at: 30), Self.file("old", 10, at: 10, reused: true), Self.file("mid", 10, at: 20),
        ]
        #expect(EvictionPolicy.leastRecentlyUsed.victims(files, leaving: 20).map(\.path) == ["old"])
        #expect(EvictionPolicy.leastRecentlyUsed.victims(files, leaving: 10).map(\.path) == ["old", "mid"])
    }

    @Test func pinnedBytesCountButAreNeverVictims() {
        let files = [Self.file("a", 10, at: 1), Self.file("b", 10, at: 2)]
        // 20 bytes of files and 15 pinned: to reach 25, one file goes; to reach 10, both go and still 15 remain.
        #expect(EvictionPolicy.tier.victims(files, pinnedBytes: 15, leaving: 25).map(\.path) == ["a"])
        #expect(EvictionPolicy.tier.victims(files, pinnedBytes: 15, leaving: 10).map(\.path) == ["a", "b"])
    }

    @Test func segmentedTakesNeverReusedFilesBeforeOlderReusedOnes() {
        let files = [
            Self.file("hot-old", 10, at: 1, reused: true), Self.file("hot", 10, at: 2, reused: true),
            Self.file("scan-1", 10, at: 3), Self.file("scan-2", 10, at: 4), Self.file("scan-3", 10, at: 5),
        ]
        #expect(EvictionPolicy.tier.victims(files, leaving: 30).map(\.path) == ["scan-1", "scan-2"])
        #expect(EvictionPolicy.leastRecentlyUsed.victims(files, leaving: 30).map(\.path) == ["hot-old", "hot"])
        // When the never-reused files are not enough (live writers' files take 25 bytes here), the protected ones go
        // too, oldest first.
        #expect(
            EvictionPolicy.tier.victims(files, pinnedBytes: 25, leaving: 40).map(\.path)
                == ["scan-1", "scan-2", "scan-3", "hot-old"])
    }

    @Test func reusedFilesBeyondTheProtectedShareCountAsProbationary() {
        // Target 50: 80 % protects 40 bytes, the four newest reused files; the two older ones compete by age with
        // the never-reused file and, being older, go first.
        var files = (0..<6).map { Self.file("hot-\($0)", 10, at: Int64(10 + $0), reused: true) }
        files.append(Self.file("cold", 10, at: 100))
        #expect(EvictionPolicy.tier.victims(files, leaving: 50).map(\.path) == ["hot-0", "hot-1"])
        // Target 40 protects 32 bytes: three reused files; three older ones go before the never-reused file.
        #expect(EvictionPolicy.tier.victims(files, leaving: 40).map(\.path) == ["hot-0", "hot-1", "hot-2"])
    }

    @Test func withoutReusedFilesSegmentedIsLeastRecentlyUsed() {
        let files = (0..<20).map { (i: Int) -> TierFile in Self.file("f\(i)", Int64(5 + i % 3), at: Int64(i * 7 % 20)) }
        let lru = EvictionPolicy.leastRecentlyUsed.victims(files, leaving: 60)
        #expect(!lru.isEmpty)
        #expect(EvictionPolicy.tier.victims(files, leaving: 60) == lru)
    }

    @Test func filesOfTheSameRecencyGoInPathOrder() {
        let files = [Self.file("b", 10, at: 5), Self.file("a", 10, at: 5), Self.file("c", 10, at: 5)]
        #expect(EvictionPolicy.tier.victims(files, leaving: 10).map(\.path) == ["a", "b"])
    }
}
