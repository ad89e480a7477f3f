// Journal: the write-back journal, one append-only file per staging directory.
//
// Each record is framed as [length: UInt32 LE][crc32 of the payload: UInt32 LE][payload] and appended with
// one pwrite at the file's end followed by fdatasync, so once `append` returns the record survives kill -9, OOM and power loss.
// The payload is [JSON length: UInt32 LE][the record as JSON][a small file's bytes, when the record carries them].
// Replay reads records until the first frame that is short or fails its checksum (a write torn by a crash) and
// cuts the file there. `compact` rewrites the file with only the records the current state needs (temp file,
// fsync, rename, fsync of the directory), at mount after recovery and whenever nothing is owed any more.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

final class Journal: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let errno: Int32
        let description: String
    }

    let path: String
    /// The descriptor and the file's length.
    private let file: Mutex<(fd: Int32, size: Int)>
    private let state = Mutex(JournalState())

    /// Opens (or creates) the journal at `path` and replays it.
    init(path: String) throws(Failure) {
        self.path = path
        let fd = unsafe open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(errno: errno, description: "cannot open the journal \(path): \(Self.errorText())") }
        let (records, validLength) = Self.read(fd)
        file = Mutex((fd, validLength))
        if ftruncate(fd, off_t(validLength)) != 0 {
            throw Failure(errno: errno, description: "cannot repair the journal \(path): \(Self.errorText())")
        }
        state.withLock { state in for record in records { state.apply(record) } }
    }

    deinit {
        file.withLock { _ = close($0.fd) }
    }

    /// The journal file's length in bytes.
    var size: Int { file.withLock { $0.size } }

    /// What the journal says is owed, as of the last record.
    var current: JournalState { state.withLock { $0 } }

    /// Appends `record` and makes it durable before returning.
    func append(_ record: JournalRecord) throws(Failure) {
        try append([record])
    }

    func append(_ records: [JournalRecord]) throws(Failure) {
        let frame = records.reduce(into: [UInt8]()) { $0 += Self.frame($1) }
        let failure: Failure? = file.withLock { file in
            guard FileIO.pwriteAll(file.fd, frame, at: UInt64(file.size)), fdatasync(file.fd) == 0 else {
                return Failure(errno: errno, description: "cannot write the journal \(path): \(Self.errorText())")
            }
            file.size += frame.count
            state.withLock { state in for record in records { state.apply(record) } }
            return nil
        }
        if let failure { throw failure }
    }

    /// Rewrites the journal with only the records that rebuild the current state.
    func compact() throws(Failure) {
        let failure: Failure? = file.withLock { file in
            let records = state.withLock { $0.records }
            let temporary = path + ".new"
            let fresh = unsafe open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fresh >= 0 else { return Failure(errno: errno, description: "cannot compact the journal: \(Self.errorText())") }
            let bytes = records.reduce(into: [UInt8]()) { $0 += Self.frame($1) }
            guard FileIO.pwriteAll(fresh, bytes, at: 0), fsync(fresh) == 0, unsafe rename(temporary, path) == 0 else {
                let failure = Failure(errno: errno, description: "cannot compact the journal: \(Self.errorText())")
                close(fresh)
                unsafe unlink(temporary)
                return failure
            }
            Self.syncDirectory(of: path)
            close(file.fd)
            file = (fresh, bytes.count)
            return nil
        }
        if let failure { throw failure }
    }

    // MARK: - Framing

    static func frame(_ record: JournalRecord) -> [UInt8] {
        let json = Array((try? JSONEncoder().encode(record)) ?? Data())
        let payload = littleEndian(UInt32(json.count)) + json + (record.inline ?? [])
        return littleEndian(UInt32(payload.count)) + littleEndian(CRC32.checksum(payload)) + payload
    }

    /// The record a payload holds (nil when it is not one).
    private static func record(from payload: ArraySlice<UInt8>) -> JournalRecord? {
        guard payload.count >= 4 else { return nil }
        let start = payload.startIndex
        let jsonLength = Int(readLittleEndian(Array(payload.prefix(4)), at: 0))
        guard jsonLength <= payload.count - 4,
            var record = try? JSONDecoder().decode(JournalRecord.self, from: Data(payload[(start + 4)..<(start + 4 + jsonLength)]))
        else { return nil }
        let rest = payload[(start + 4 + jsonLength)...]
        guard rest.count == record.inlineCount ?? 0 else { return nil }
        if record.inlineCount != nil { record.inline = Array(rest) }
        return record
    }

    /// Every intact record from the start, and the length they cover.
    static func read(_ fd: Int32) -> ([JournalRecord], Int) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            // SAFETY: pread writes at most `chunk.count` bytes, into the chunk's own storage.
            let count = unsafe chunk.withUnsafeMutableBytes { unsafe pread(fd, $0.baseAddress, $0.count, offset) }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
            offset += off_t(count)
        }
        var records: [JournalRecord] = []
        var position = 0
        while position + 8 <= bytes.count {
            let length = Int(readLittleEndian(bytes, at: position))
            let checksum = readLittleEndian(bytes, at: position + 4)
            let end = position + 8 + length
            guard length > 0, end <= bytes.count else { break }
            let payload = bytes[(position + 8)..<end]
            guard CRC32.checksum(payload) == checksum, let record = record(from: payload) else { break }
            records.append(record)
            position = end
        }
        return (records, position)
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xff), UInt8((value >> 8) & 0xff), UInt8((value >> 16) & 0xff), UInt8(value >> 24)]
    }

    private static func readLittleEndian(_ bytes: [UInt8], at index: Int) -> UInt32 {
        UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
    }

    /// fsync of the directory holding `path`, so a rename or a new file in it is durable.
    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = unsafe open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    static func errorText() -> String { unsafe String(cString: strerror(errno)) }
}

/// CRC-32 (IEEE 802.3, the zlib polynomial) of the journal's record payloads.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        (0..<8).reduce(UInt32(index)) { crc, _ in crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }

    static func checksum<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt32 {
        ~bytes.reduce(~UInt32(0)) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
    }
}
