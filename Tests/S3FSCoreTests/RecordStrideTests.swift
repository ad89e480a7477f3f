@testable import S3FSCore
import S3FSTesting
import Testing

/// RecordStride: fixed-size records at a fixed stride, from the reads the kernel sends.
@Suite struct RecordStrideTests {
    static let KiB: UInt64 = 1 << 10
    static let MiB: UInt64 = 1 << 20

    @Test func theFourthRecordAtTheSameStepConfirmsTheStride() {
        var stride = RecordStride()
        for record in 0..<3 as Range<UInt64> {
            #expect(stride.observe(offset: record * Self.MiB, length: 64 * Self.KiB) == nil)
        }
        let prediction = stride.observe(offset: 3 * Self.MiB, length: 64 * Self.KiB)
        #expect(prediction == RecordStride.Prediction(stride: Self.MiB, length: 64 * Self.KiB, current: 3 * Self.MiB, errorPerStep: 0))
        #expect(prediction?.hasGaps == true)
        #expect(stride.observe(offset: 4 * Self.MiB, length: 64 * Self.KiB)?.current == 4 * Self.MiB)
    }

    @Test func aRecordSplitIntoSeveralReadsCountsOnce() {
        // 256 KiB records every 1 MiB, each read as two 128 KiB requests (the kernel's largest read), the second
        // of a record sometimes before the first.
        var stride = RecordStride()
        var last: RecordStride.Prediction?
        for record in 0..<5 as Range<UInt64> {
            let start = record * Self.MiB
            let halves = record % 2 == 0 ? [start, start + 128 * Self.KiB] : [start + 128 * Self.KiB, start]
            for offset in halves { last = stride.observe(offset: offset, length: 128 * Self.KiB) }
        }
        #expect(last.map { [$0.stride, $0.length, $0.current] } == [Self.MiB, 256 * Self.KiB, 4 * Self.MiB])
    }

    @Test func pageRoundingOfUnalignedRecordsStillMatches() {
        // 10,000-byte records every 50,000 bytes, each read as the pages it touches.
        var stride = RecordStride()
        var predictions: [RecordStride.Prediction?] = []
        for record in 0..<8 as Range<UInt64> {
            let start = record * 50_000
            let pageStart = start / 4096 * 4096
            let pageEnd = (start + 10_000 + 4095) / 4096 * 4096
            predictions.append(stride.observe(offset: pageStart, length: pageEnd - pageStart))
        }
        #expect(predictions[..<3].allSatisfy { $0 == nil })
        #expect(predictions[3...].allSatisfy { $0 != nil && $0!.hasGaps })
    }

    @Test func sequentialReadsAreOneLongRecordNotAStride() {
        var detector = RecordStride()
        for offset in stride(from: 0 as UInt64, to: 64 * Self.MiB, by: Int(128 * Self.KiB)) {
            #expect(detector.observe(offset: offset, length: 128 * Self.KiB) == nil)
        }
    }

    @Test func randomOffsetsNeverConfirmAStride() {
        var stride = RecordStride()
        var generator = SplitMix(seed: 11)
        for _ in 0..<1000 {
            let offset = generator.next() % (1 << 30) / 4096 * 4096
            #expect(stride.observe(offset: offset, length: 64 * Self.KiB) == nil)
        }
    }

    @Test func sortedRandomOffsetsWithUnevenGapsNeverConfirmAStride() {
        // A sampler reading a sorted random subset: growing offsets, gaps of any size.
        var stride = RecordStride()
        var generator = SplitMix(seed: 5)
        var offset: UInt64 = 0
        var confirmed = 0
        for _ in 0..<1000 {
            offset += 64 * Self.KiB * (1 + generator.next() % 16)
            if stride.observe(offset: offset, length: 64 * Self.KiB) != nil { confirmed += 1 }
        }
        // Two equal gaps in a row happen by chance (1 in 16); a confirmed stride lasts only until the next gap.
        #expect(confirmed < 100)
    }

    @Test func aReadOffTheStrideDropsItUntilTwoStepsMatchAgain() {
        var stride = RecordStride()
        for record in 0..<4 as Range<UInt64> { _ = stride.observe(offset: record * Self.MiB, length: 64 * Self.KiB) }
        #expect(stride.prediction != nil)
        #expect(stride.observe(offset: 10 * Self.MiB + 12288, length: 64 * Self.KiB) == nil)
        #expect(stride.observe(offset: 11 * Self.MiB + 12288, length: 64 * Self.KiB) == nil)
        #expect(stride.observe(offset: 12 * Self.MiB + 12288, length: 64 * Self.KiB) == nil)
        #expect(stride.observe(offset: 13 * Self.MiB + 12288, length: 64 * Self.KiB) != nil)
    }

    @Test func aReadBackwardsForgetsEverything() {
        var stride = RecordStride()
        for record in 0..<4 as Range<UInt64> { _ = stride.observe(offset: (record + 10) * Self.MiB, length: 4096) }
        #expect(stride.observe(offset: 0, length: 4096) == nil)
        #expect(stride.observe(offset: Self.MiB, length: 4096) == nil)
        #expect(stride.observe(offset: 2 * Self.MiB, length: 4096) == nil)
        #expect(stride.observe(offset: 3 * Self.MiB, length: 4096) != nil)
    }

    @Test func recordsWithSmallGapsAreNotWorthFetchingOneByOne() {
        var stride = RecordStride()
        for record in 0..<4 as Range<UInt64> { _ = stride.observe(offset: record * 96 * Self.KiB, length: 64 * Self.KiB) }
        #expect(stride.prediction != nil)
        #expect(stride.prediction?.hasGaps == false)
    }
}

/// What a prediction fetches: the record's extent, widened by the kernel's page rounding and the stride's error.
@Suite struct RecordStridePredictionTests {
    @Test func unalignedRecordsAreCoveredByTheExtentsFetchedForThem() {
        // 10,000-byte records every 150,528 bytes (a 3x224x224 image), first at byte 777: the kernel shows each as
        // the pages it touches. Every record predicted later must lie inside the extent fetched for it.
        let start: UInt64 = 777, size: UInt64 = 10_000, step: UInt64 = 150_528
        var detector = RecordStride()
        for index in 0..<40 as Range<UInt64> {
            let offset = start + index * step
            let pageStart = offset / 4096 * 4096
            let pageEnd = (offset + size + 4095) / 4096 * 4096
            guard let prediction = detector.observe(offset: pageStart, length: pageEnd - pageStart) else {
                #expect(index < 4, "no stride at record \(index)")
                continue
            }
            #expect(prediction.hasGaps)
            for ahead in 1...8 as ClosedRange<UInt64> {
                let target = start + (index + ahead) * step
                let page = target / 4096 * 4096..<(target + size + 4095) / 4096 * 4096
                let extent = prediction.extent(steps: ahead, objectSize: 1 << 40)!
                #expect(extent.lowerBound <= page.lowerBound && page.upperBound <= extent.upperBound,
                    "record \(index + ahead) predicted at record \(index): \(extent) misses \(page)")
            }
        }
    }

    @Test func alignedStridesFetchTheRecordAndOnePageEachSide() {
        var detector = RecordStride()
        var prediction: RecordStride.Prediction?
        for index in 0..<6 as Range<UInt64> { prediction = detector.observe(offset: index << 20, length: 65_536) }
        let expected: Range<UInt64> = (8 << 20) - 4096..<(8 << 20) + 65_536 + 4096
        #expect(prediction?.extent(steps: 3, objectSize: 1 << 30) == expected)
        #expect(prediction?.extent(steps: 100, objectSize: 8 << 20) == nil)
    }
}
