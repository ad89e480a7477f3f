import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// A handle reading fixed-size records at a fixed stride gets the next records fetched ahead, as records: never
/// the gaps between them.
@Suite struct PipelineRecordsTests {
    static let size = 4 << 20
    static let content = Pipeline.content(size, seed: 3)
    static let record = 8 << 10
    static let stride = 128 << 10
    let store = MockObjectStore()
    let fs: FileSystem

    init() {
        store.put("f", Self.content)
        fs = Pipeline.fileSystem(store)
    }

    /// Whether a record read ahead of the reader covers record `index`.
    func isReadAhead(_ index: Int) -> Bool {
        let start = UInt64(index * Self.stride)
        return fs.fetcher.cache.cachedRecords(of: "f").contains { extent in
            extent.lowerBound <= start && start + UInt64(Self.record) <= extent.upperBound
        }
    }

    @Test func stridedRecordsAreFetchedAheadAsRecords() async throws {
        let handle = try await fs.openFile("f")
        let count = Self.size / Self.stride
        for index in 0..<count {
            let offset = index * Self.stride
            let bytes = try await fs.read(handle: handle, offset: UInt64(offset), size: Self.record).bytes
            #expect(bytes == Array(Self.content[offset..<offset + Self.record]), "record \(index)")
            if index >= 3, index + 1 < count {
                // Once the stride is confirmed, the next record is on its way before the reader asks for it.
                #expect(isReadAhead(index + 1), "record \(index + 1) not read ahead")
            }
        }
        fs.release(handle: handle)
        let ranges = Pipeline.getRanges(store, "f")
        let fetched = ranges.reduce(0) { $0 + $1.count }
        // The span is 4 MiB; the records are 256 KiB. Before the stride shows, the reads look sequential and the
        // first window of blocks is read ahead (at most 8 blocks of 64 KiB); after that only records are fetched.
        #expect(fetched <= 8 * Pipeline.block + count * (Self.record + 2 * Int(RecordStride.slack)), "\(ranges)")
        let late = ranges.filter { $0.lowerBound >= UInt64(Self.size / 2) }
        #expect(!late.isEmpty && late.allSatisfy { $0.count <= Self.record + 2 * Int(RecordStride.slack) }, "\(late)")
    }

    @Test func recordsWithSmallGapsAreReadAheadAsTheSpan() async throws {
        // Records of 48 KiB every 64 KiB: the gaps are a quarter of the span, so whole blocks are cheaper.
        let handle = try await fs.openFile("f")
        for index in 0..<16 {
            let offset = index * Pipeline.block
            let bytes = try await fs.read(handle: handle, offset: UInt64(offset), size: 48 << 10).bytes
            #expect(bytes == Array(Self.content[offset..<offset + (48 << 10)]))
        }
        fs.release(handle: handle)
        let ranges = Pipeline.getRanges(store, "f")
        #expect(ranges.allSatisfy { $0.count == Pipeline.block }, "\(ranges)")
    }
}
