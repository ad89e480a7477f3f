/// How writes reach S3 (--write-mode, --cache-dir, --part-size, --upload-concurrency, --upload-bandwidth,
/// --drain-timeout). Absent on a read-only mount.
public struct WriteConfig: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// close() returns once the data and its journal record are durable on local disk; the upload follows.
        case writeback
        /// close() returns once the object is durable in S3.
        case sync
    }

    public var mode: Mode
    /// This mount's staging directory (data files and the journal), e.g. /var/cache/s3mount/writeback/<bucket id>.
    public var stagingDirectory: String
    /// The first parts' size; later parts grow so that 10,000 parts hold 5 TiB (PartLayout).
    public var partSize: UInt64
    /// Upload requests (parts or PUTs) in flight at once, across the mount.
    public var uploadConcurrency: Int
    /// Upload bytes per second, nil for no limit.
    public var uploadBandwidth: UInt64?
    /// How long unmount waits for pending uploads before leaving them journalled for the next mount.
    public var drainTimeout: Double

    public init(
        mode: Mode = .writeback, stagingDirectory: String, partSize: UInt64 = 8 << 20, uploadConcurrency: Int = 8,
        uploadBandwidth: UInt64? = nil, drainTimeout: Double = 60
    ) {
        self.mode = mode
        self.stagingDirectory = stagingDirectory
        self.partSize = partSize
        self.uploadConcurrency = uploadConcurrency
        self.uploadBandwidth = uploadBandwidth
        self.drainTimeout = drainTimeout
    }
}
