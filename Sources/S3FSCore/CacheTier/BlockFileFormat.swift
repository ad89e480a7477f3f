import CXXHash

/// One block file of the cache tier: a header that repeats everything the block is for and a checksum of each
/// 64 KiB chunk of its payload, then the payload. Per-chunk checksums let a small read take one chunk from the
/// file and check it without reading the whole block. The header is padded to a multiple of 4 KiB so that the
/// payload starts on a page: the file can be written from the block's own memory with O_DIRECT.
///
///     0  "S3MBLK03"                      magic and version
///     8  name length (UInt32, LE)        the name: store identity, key, ETag, block size, index, record length
///    12  chunk size (UInt32, LE)
///    16  payload length (UInt64, LE)
///    24  XXH3-64 of the chunk table (UInt64, LE)
///    32  chunk table: the XXH3-64 of each chunk of the payload (UInt64, LE each)
///     …  name bytes, zeros up to the next multiple of 4 KiB, then the payload
///
/// A file whose magic, name, length, padding, chunk table or chunk checksum does not match what was asked for is
/// never served.
struct BlockFileFormat: Sendable {
    static let magic = Array("S3MBLK03".utf8)
    /// The magic without its version: a file with another version is an older s3mount's, not a damaged one.
    static let family = Array("S3MBLK".utf8)
    static let fixedHeaderSize = 32
    static let chunkSize = 64 << 10
    /// What the payload's offset is a multiple of (the largest logical block size of a disk: O_DIRECT's unit).
    static let alignment = 4096

    /// Everything that makes a block this block, as one string.
    let name: [UInt8]
    /// The payload's length.
    let length: Int

    init(storeIdentity: String, key: BlockKey, blockSize: Int, length: Int) {
        let text = [storeIdentity, key.key, key.etag.value, "\(blockSize)", "\(key.index)", "\(key.recordLength)"]
            .joined(separator: "\n")
        name = Array(text.utf8)
        self.length = length
    }

    /// A 128-bit hash of the name, in hex: what the block's files are called.
    var hashName: String {
        let hash = unsafe name.withUnsafeBytes { unsafe XXH3_128bits($0.baseAddress, $0.count) }
        return Self.hex(hash.high64) + Self.hex(hash.low64)
    }

    /// The file's path under the tier's directory: its hash name, fanned out over 256 directories.
    var relativePath: String {
        let hex = hashName
        return "\(hex.prefix(2))/\(hex).blk"
    }

    var chunkCount: Int { (length + Self.chunkSize - 1) / Self.chunkSize }

    /// The header's bytes before its padding.
    private var headerSize: Int { Self.fixedHeaderSize + 8 * chunkCount + name.count }

    var payloadOffset: Int { (headerSize + Self.alignment - 1) / Self.alignment * Self.alignment }

    /// The payload bytes of chunk `index`.
    func chunkRange(_ index: Int) -> Range<Int> {
        index * Self.chunkSize..<min(length, (index + 1) * Self.chunkSize)
    }

    /// The chunks that hold the payload bytes `bytes`.
    func chunks(covering bytes: Range<Int>) -> Range<Int> {
        bytes.lowerBound / Self.chunkSize..<(bytes.upperBound + Self.chunkSize - 1) / Self.chunkSize
    }

    /// The payload bytes of the chunks `chunks` (which are not empty).
    func payloadBytes(of chunks: Range<Int>) -> Range<Int> {
        chunkRange(chunks.lowerBound).lowerBound..<chunkRange(chunks.upperBound - 1).upperBound
    }

    /// Whether `bytes`, the payload bytes of `chunks`, match the header's chunk `checksums`.
    func chunksMatch(_ chunks: Range<Int>, _ bytes: UnsafeRawBufferPointer, checksums: [UInt64]) -> Bool {
        let start = payloadBytes(of: chunks).lowerBound
        return chunks.allSatisfy { index in
            let chunk = chunkRange(index)
            let slice = unsafe UnsafeRawBufferPointer(rebasing: bytes[chunk.lowerBound - start..<chunk.upperBound - start])
            return unsafe Self.checksum(slice) == checksums[index]
        }
    }

    /// The header of a file holding `payload` (of `length` bytes), padded: payloadOffset bytes.
    func header(payload: UnsafeRawBufferPointer) -> [UInt8] {
        var table: [UInt8] = []
        table.reserveCapacity(8 * chunkCount)
        for index in 0..<chunkCount {
            let chunk = chunkRange(index)
            unsafe Self.append(Self.checksum(UnsafeRawBufferPointer(rebasing: payload[chunk])), to: &table)
        }
        var bytes = Self.magic
        Self.append(UInt32(name.count), to: &bytes)
        Self.append(UInt32(Self.chunkSize), to: &bytes)
        Self.append(UInt64(length), to: &bytes)
        unsafe table.withUnsafeBytes { unsafe Self.append(Self.checksum($0), to: &bytes) }
        return bytes + table + name + [UInt8](repeating: 0, count: payloadOffset - headerSize)
    }

    /// What is wrong with a file whose first payloadOffset bytes are `header`.
    enum Problem: Error, Equatable {
        /// Written by an s3mount with another file format: not damage, just not usable.
        case otherVersion
        case damaged(String)
    }

    /// The chunk checksums `header` holds, or why it is not the header of this block.
    func chunkChecksums(in header: [UInt8]) -> Result<[UInt64], Problem> {
        guard header.count == payloadOffset else { return .failure(.damaged("truncated header")) }
        guard Array(header[0..<8]) == Self.magic else {
            return .failure(Array(header[0..<6]) == Self.family ? .otherVersion : .damaged("not a block file"))
        }
        guard Self.read(UInt32.self, header, at: 8) == UInt32(name.count), Array(header[(headerSize - name.count)..<headerSize]) == name
        else {
            return .failure(.damaged("a different block"))
        }
        guard Self.read(UInt32.self, header, at: 12) == UInt32(Self.chunkSize),
            Self.read(UInt64.self, header, at: 16) == UInt64(length)
        else {
            return .failure(.damaged("a different length"))
        }
        guard header[headerSize...].allSatisfy({ $0 == 0 }) else { return .failure(.damaged("header padding is not zeros")) }
        let table = Array(header[Self.fixedHeaderSize..<Self.fixedHeaderSize + 8 * chunkCount])
        guard unsafe table.withUnsafeBytes({ unsafe Self.checksum($0) }) == Self.read(UInt64.self, header, at: 24) else {
            return .failure(.damaged("chunk table checksum mismatch"))
        }
        return .success((0..<chunkCount).map { Self.read(UInt64.self, table, at: 8 * $0) })
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        unsafe XXH3_64bits(bytes.baseAddress, bytes.count)
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        unsafe withUnsafeBytes(of: value.littleEndian) { unsafe bytes += $0 }
    }

    private static func read<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        bytes[offset..<offset + MemoryLayout<T>.size].reversed().reduce(T.zero) { $0 << 8 | T($1) }
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
