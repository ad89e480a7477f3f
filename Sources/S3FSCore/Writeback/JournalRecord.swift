// The records of the write-back journal. Each says one thing that happened to one staged file (by its id);
// replaying them in order gives every upload still owed to S3 (JournalState).

struct JournalRecord: Codable, Sendable, Hashable {
    enum Kind: String, Codable, Sendable {
        /// Bytes of `key` are durable in staging file `id` (at close or fsync): they are owed to S3.
        case staged
        /// A multipart upload of `key` is about to be created for staging file `id` (written before the request,
        /// so a crash between the two still names the key whose uploads must be cleaned up).
        case multipartIntent
        /// The multipart upload `uploadID` was created, with parts laid out by `partSize`.
        case multipart
        /// Part `part` of the current multipart upload is in S3 with `etag`.
        case part
        /// The multipart upload of `id` was given up (aborted, or found gone): its parts no longer count.
        case multipartEnded
        /// The staging file now belongs to `key` (rename).
        case renamed
        /// Generation `generation` of `id` is durable in S3: nothing is owed for it any more.
        case uploaded
        /// The file was removed (unlink, or replaced by a rename): nothing is owed, the staging file goes.
        case discarded
    }

    var kind: Kind
    var id: UInt64
    var key: String? = nil
    var generation: UInt64? = nil
    /// The version the staged bytes replace: nil for a new object, "*" for an unconditional replace.
    var base: String? = nil
    var uploadID: String? = nil
    var partSize: UInt64? = nil
    var part: Int? = nil
    var etag: String? = nil
    var mtime: Double? = nil
    /// A small file's whole bytes, carried by its `staged` record: one fdatasync of the journal makes the close
    /// durable, with no fsync of the staging file (recovery writes them back). Framed after the JSON, not in it.
    var inline: [UInt8]? = nil {
        didSet { inlineCount = inline?.count }
    }
    /// How many inline bytes follow the JSON (nil: none, not even an empty file's).
    private(set) var inlineCount: Int? = nil

    init(
        kind: Kind, id: UInt64, key: String? = nil, generation: UInt64? = nil, base: String? = nil,
        uploadID: String? = nil, partSize: UInt64? = nil, part: Int? = nil, etag: String? = nil, mtime: Double? = nil,
        inline: [UInt8]? = nil
    ) {
        (self.kind, self.id, self.key, self.generation, self.base) = (kind, id, key, generation, base)
        (self.uploadID, self.partSize, self.part, self.etag, self.mtime) = (uploadID, partSize, part, etag, mtime)
        self.inline = inline
        inlineCount = inline?.count
    }

    private enum CodingKeys: String, CodingKey {
        case kind, id, key, generation, base, uploadID, partSize, part, etag, mtime, inlineCount
    }
}

/// What the journal says is owed to S3, file by file: the result of replaying its records.
struct JournalState: Sendable {
    struct Pending: Sendable, Hashable {
        var id: UInt64
        var key: String
        var generation: UInt64
        var base: String?
        var mtime: Double
        /// Whether close or fsync made these bytes durable (false: only a multipart upload was started for a file
        /// still being written when the daemon stopped; nothing was acknowledged).
        var acknowledged: Bool
        var uploadID: String?
        var partSize: UInt64?
        var parts: [Int: String] = [:]
        /// The file's bytes, when its last `staged` record carried them.
        var inline: [UInt8]? = nil
    }

    private(set) var pending: [UInt64: Pending] = [:]
    /// Keys that had multipart uploads started for them: leftovers under these keys are aborted at recovery.
    private(set) var multipartKeys: Set<String> = []

    mutating func apply(_ record: JournalRecord) {
        let id = record.id
        switch record.kind {
        case .staged:
            var entry = pending[id] ?? Pending(
                id: id, key: record.key ?? "", generation: 0, base: record.base, mtime: 0, acknowledged: true)
            entry.key = record.key ?? entry.key
            entry.generation = record.generation ?? entry.generation
            entry.base = record.base
            entry.mtime = record.mtime ?? entry.mtime
            entry.acknowledged = true
            entry.inline = record.inline
            pending[id] = entry
        case .multipartIntent:
            if let key = record.key { multipartKeys.insert(key) }
            if id != 0, pending[id] == nil, let key = record.key {
                pending[id] = Pending(id: id, key: key, generation: 0, base: record.base, mtime: 0, acknowledged: false)
            }
        case .multipart:
            pending[id]?.uploadID = record.uploadID
            pending[id]?.partSize = record.partSize
            pending[id]?.parts = [:]
        case .part:
            if let part = record.part, let etag = record.etag { pending[id]?.parts[part] = etag }
        case .multipartEnded:
            pending[id]?.uploadID = nil
            pending[id]?.parts = [:]
        case .renamed:
            if let key = record.key { pending[id]?.key = key }
            pending[id]?.base = "*"
        case .uploaded:
            if let entry = pending[id], entry.generation <= record.generation ?? 0 { pending[id] = nil }
        case .discarded:
            pending[id] = nil
        }
    }

    /// The records that rebuild this state on their own (for compaction).
    var records: [JournalRecord] {
        var out: [JournalRecord] = multipartKeys.sorted().map { JournalRecord(kind: .multipartIntent, id: 0, key: $0) }
        for entry in pending.values.sorted(by: { $0.id < $1.id }) {
            if entry.acknowledged {
                out.append(JournalRecord(kind: .staged, id: entry.id, key: entry.key, generation: entry.generation,
                                         base: entry.base, mtime: entry.mtime, inline: entry.inline))
            } else {
                out.append(JournalRecord(kind: .multipartIntent, id: entry.id, key: entry.key, base: entry.base))
            }
            guard let uploadID = entry.uploadID else { continue }
            out.append(JournalRecord(kind: .multipart, id: entry.id, uploadID: uploadID, partSize: entry.partSize))
            for (part, etag) in entry.parts.sorted(by: { $0.key < $1.key }) {
                out.append(JournalRecord(kind: .part, id: entry.id, part: part, etag: etag))
            }
        }
        return out
    }
}
