import CXXHash

/// One block file of the cache tier: a header that repeats everything the block is for and the checksum of its
/// payload, then the payload.
///
///     0  "S3MBLK01"                      magic and version
///     8  name length (UInt32, LE)        the name: store identity, key, ETag, block size, index, record length
///    12  0 (UInt32)
///    16  payload length (UInt64, LE)
///    24  payload XXH3-64 (UInt64, LE)
///    32  name bytes, then the payload
///
/// A file whose magic, name, length or checksum does not match what was asked for is never served.
struct BlockFileFormat: Sendable {
    static let magic = Array("S3MBLK01".utf8)
    static let fixedHeaderSize = 32
    static let maxNameLength = 16 << 10

    /// Everything that makes a block this block, as one string.
    let name: [UInt8]

    init(storeIdentity: String, key: BlockKey, blockSize: Int) {
        let text = [storeIdentity, key.key, key.etag.value, "\(blockSize)", "\(key.index)", "\(key.recordLength)"]
            .joined(separator: "\n")
        name = Array(text.utf8)
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

    var payloadOffset: Int { Self.fixedHeaderSize + name.count }

    /// The header of a file holding `payload`.
    func header(payload: UnsafeRawBufferPointer) -> [UInt8] {
        var bytes = Self.magic
        Self.append(UInt32(name.count), to: &bytes)
        Self.append(UInt32(0), to: &bytes)
        Self.append(UInt64(payload.count), to: &bytes)
        unsafe Self.append(Self.checksum(payload), to: &bytes)
        return bytes + name
    }

    /// Why `header` (the file's first payloadOffset bytes) is not the header of this block of `length` bytes, or
    /// nil when it is; the payload's expected checksum comes back through `checksum`.
    func problem(with header: [UInt8], length: Int, checksum: inout UInt64) -> String? {
        guard header.count == payloadOffset else { return "truncated header" }
        guard Array(header[0..<8]) == Self.magic else { return "not a block file" }
        guard Self.read(UInt32.self, header, at: 8) == UInt32(name.count), Array(header[32...]) == name else {
            return "a different block"
        }
        guard Self.read(UInt64.self, header, at: 16) == UInt64(length) else { return "a different length" }
        checksum = Self.read(UInt64.self, header, at: 24)
        return nil
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
