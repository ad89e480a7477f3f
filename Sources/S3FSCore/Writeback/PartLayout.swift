// PartLayout: where each multipart part starts and ends, known before the file's size is.
//
// A file written sequentially is uploaded while it grows, so the part size cannot be chosen from its final size.
// Parts 1–1,000 have the base size, 1,001–2,000 twice that, and so on, doubling every 1,000 parts: with an 8 MiB
// base the 10,000 parts hold 8 TiB (S3's object limit is 5 TiB), while files up to 8 GiB keep 8 MiB parts.
import ObjectStore

struct PartLayout: Sendable, Hashable {
    static let partsPerTier = 1_000
    let base: UInt64

    init(base: UInt64) {
        self.base = max(base, UploadLimits.minPartBytes)
    }

    /// The size of part `number` (from 1), before the file's end cuts the last one short.
    func size(of number: Int) -> UInt64 {
        min(base << UInt64((number - 1) / Self.partsPerTier), UploadLimits.maxPartBytes)
    }

    /// Where part `number` starts.
    func offset(of number: Int) -> UInt64 {
        let tier = (number - 1) / Self.partsPerTier
        var offset: UInt64 = 0
        for t in 0..<tier { offset += UInt64(Self.partsPerTier) * size(of: t * Self.partsPerTier + 1) }
        return offset + UInt64((number - 1) % Self.partsPerTier) * size(of: number)
    }

    /// The byte range of part `number` in a file of `fileSize` bytes (nil past its end).
    func range(of number: Int, fileSize: UInt64) -> Range<UInt64>? {
        let start = offset(of: number)
        guard start < fileSize || (number == 1 && fileSize == 0) else { return nil }
        return start..<min(fileSize, start + size(of: number))
    }

    /// The part holding byte `offset`.
    func part(containing offset: UInt64) -> Int {
        var number = 1
        var start: UInt64 = 0
        while number + Self.partsPerTier <= UploadLimits.maxParts {
            let tierBytes = UInt64(Self.partsPerTier) * size(of: number)
            guard offset >= start + tierBytes else { break }
            start += tierBytes
            number += Self.partsPerTier
        }
        return number + Int((offset - start) / size(of: number))
    }

    /// How many parts a file of `fileSize` bytes has.
    func partCount(fileSize: UInt64) -> Int {
        fileSize == 0 ? 1 : part(containing: fileSize - 1)
    }
}
