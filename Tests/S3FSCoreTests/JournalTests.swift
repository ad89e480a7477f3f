#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ObjectStore
@testable import S3FSCore
import Testing

@Suite struct JournalTests {
    let path = makeStagingDirectory() + "/journal"

    @Test func recordsSurviveReopeningAndReplayToWhatIsOwed() throws {
        let journal = try Journal(path: path)
        try journal.append(JournalRecord(kind: .staged, id: 1, key: "a", generation: 1))
        try journal.append(JournalRecord(kind: .staged, id: 2, key: "b", generation: 3))
        try journal.append(JournalRecord(kind: .uploaded, id: 1, generation: 1))
        try journal.append(JournalRecord(kind: .renamed, id: 2, key: "c"))
        let reopened = try Journal(path: path).current.pending
        #expect(reopened.keys.sorted() == [2])
        #expect(reopened[2]?.key == "c")
        #expect(reopened[2]?.base == "*")
    }

    @Test func inlineBytesSurviveReplayAndCompaction() throws {
        let journal = try Journal(path: path)
        try journal.append(JournalRecord(kind: .staged, id: 1, key: "a", generation: 1, inline: [1, 2, 3]))
        try journal.append(JournalRecord(kind: .staged, id: 2, key: "empty", generation: 1, inline: []))
        try journal.append(JournalRecord(kind: .staged, id: 3, key: "big", generation: 1))
        #expect(try Journal(path: path).current.pending[1]?.inline == [1, 2, 3])
        try journal.compact()
        let replayed = try Journal(path: path).current.pending
        #expect(replayed[1]?.inline == [1, 2, 3])
        #expect(replayed[2]?.inline == [])
        #expect(replayed[3]?.inline == nil)
    }

    @Test func anUploadOfAnOlderGenerationLeavesTheNewerOneOwed() throws {
        let journal = try Journal(path: path)
        try journal.append(JournalRecord(kind: .staged, id: 1, key: "a", generation: 2))
        try journal.append(JournalRecord(kind: .uploaded, id: 1, generation: 1))
        #expect(journal.current.pending[1]?.generation == 2)
    }

    @Test func aTornTailIsCutAndEverythingBeforeItKept() throws {
        do {
            let journal = try Journal(path: path)
            try journal.append(JournalRecord(kind: .staged, id: 7, key: "kept", generation: 1))
        }
        let intact = try FileManager.default.attributesOfItem(atPath: path)[.size] as! UInt64
        let torn = Journal.frame(JournalRecord(kind: .staged, id: 8, key: "torn", generation: 1)).dropLast(3)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(torn))
        try handle.close()
        let reopened = try Journal(path: path)
        #expect(reopened.current.pending.keys.sorted() == [7])
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as! UInt64 == intact)
        try reopened.append(JournalRecord(kind: .staged, id: 9, key: "after", generation: 1))
        #expect(try Journal(path: path).current.pending.keys.sorted() == [7, 9])
    }

    @Test func aCorruptRecordEndsTheReplay() throws {
        do {
            let journal = try Journal(path: path)
            try journal.append(JournalRecord(kind: .staged, id: 1, key: "first", generation: 1))
            try journal.append(JournalRecord(kind: .staged, id: 2, key: "second", generation: 1))
        }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try Journal(path: path).current.pending.keys.sorted() == [1])
    }

    @Test func compactionKeepsOnlyWhatIsOwed() throws {
        let journal = try Journal(path: path)
        for id in UInt64(1)...50 {
            try journal.append(JournalRecord(kind: .staged, id: id, key: "k\(id)", generation: 1))
            if id != 25 { try journal.append(JournalRecord(kind: .uploaded, id: id, generation: 1)) }
        }
        try journal.append(JournalRecord(kind: .multipart, id: 25, uploadID: "u-1", partSize: 8 << 20))
        try journal.append(JournalRecord(kind: .part, id: 25, part: 1, etag: "\"e1\""))
        let before = try FileManager.default.attributesOfItem(atPath: path)[.size] as! UInt64
        try journal.compact()
        let after = try FileManager.default.attributesOfItem(atPath: path)[.size] as! UInt64
        #expect(after < before / 10)
        let replayed = try Journal(path: path).current.pending
        #expect(replayed.keys.sorted() == [25])
        #expect(replayed[25]?.uploadID == "u-1")
        #expect(replayed[25]?.parts == [1: "\"e1\""])
    }

    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }
}

@Suite struct PartLayoutTests {
    let layout = PartLayout(base: 8 << 20)

    @Test func partsAreContiguousAndGrowEveryThousand() {
        #expect(layout.size(of: 1) == 8 << 20)
        #expect(layout.size(of: 1000) == 8 << 20)
        #expect(layout.size(of: 1001) == 16 << 20)
        for number in [1, 2, 999, 1000, 1001, 2500, 9999] {
            #expect(layout.offset(of: number + 1) == layout.offset(of: number) + layout.size(of: number))
        }
    }

    @Test func tenThousandPartsHoldFiveTebibytes() {
        let capacity = layout.offset(of: 10_000) + layout.size(of: 10_000)
        #expect(capacity >= 5 << 40)
        #expect(layout.partCount(fileSize: 5 << 40) <= 10_000)
    }

    @Test func thePartHoldingAnOffsetIsFoundAcrossTiers() {
        for number in [1, 2, 999, 1000, 1001, 2000, 2001, 9999, 10_000] {
            let start = layout.offset(of: number)
            #expect(layout.part(containing: start) == number)
            #expect(layout.part(containing: start + layout.size(of: number) - 1) == number)
        }
        #expect(layout.partCount(fileSize: 0) == 1)
        #expect(layout.partCount(fileSize: 1) == 1)
        #expect(layout.partCount(fileSize: 8 << 20) == 1)
        #expect(layout.partCount(fileSize: (8 << 20) + 1) == 2)
    }

    @Test func theLastPartIsCutAtTheEndOfTheFile() {
        let size: UInt64 = (8 << 20) * 2 + 100
        #expect(layout.partCount(fileSize: size) == 3)
        #expect(layout.range(of: 3, fileSize: size) == (16 << 20)..<size)
        #expect(layout.range(of: 4, fileSize: size) == nil)
    }

    @Test func aBaseBelowTheS3MinimumIsRaised() {
        #expect(PartLayout(base: 1 << 20).size(of: 1) == UploadLimits.minPartBytes)
    }
}
