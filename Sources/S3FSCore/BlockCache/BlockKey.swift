import ObjectStore

/// One aligned block of one version of one object. The ETag is part of the key, so a replaced object can never be
/// served from blocks of its previous version.
struct BlockKey: Hashable, Sendable {
    var key: String
    var etag: ETag
    var index: UInt64
}
