import ObjectStore

/// One aligned block of one version of one object, or one record of it. The ETag is part of the key, so a replaced
/// object can never be served from blocks of its previous version.
struct BlockKey: Hashable, Sendable {
    var key: String
    var etag: ETag
    /// The block's number; for a record, its byte offset.
    var index: UInt64
    /// 0 for an aligned block; a record's length (records are fetched by RecordStride read-ahead).
    var recordLength = 0
}
