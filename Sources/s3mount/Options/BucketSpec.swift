import ArgumentParser

/// The `BUCKET[:PREFIX]` argument.
struct BucketSpec: ExpressibleByArgument, Sendable, Equatable {
    var bucket: String
    /// As given, without normalisation ("" for the whole bucket).
    var prefix: String

    init?(argument: String) {
        let parts = argument.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        bucket = String(parts[0])
        prefix = parts.count > 1 ? String(parts[1]) : ""
    }

    /// Why `bucket` cannot be an S3 bucket name, or nil. Deliberately loose (S3-compatible servers accept more
    /// than AWS does): only what can never work is refused.
    var invalidReason: String? {
        if bucket.isEmpty { return "the bucket name is empty" }
        if bucket.count > 255 { return "the bucket name is longer than 255 characters" }
        if let bad = bucket.first(where: { $0 == "/" || $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } ?? false }) {
            return "the bucket name '\(bucket)' contains '\(bad == "/" ? "/" : "a space or control character")'"
        }
        return nil
    }
}
