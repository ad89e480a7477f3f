// Connection and timeout settings the transfer engine applies to every request.

/// How the engine connects; derived from S3HTTPConfig.
struct TransferOptions: Sendable {
    /// Seconds to wait for TCP (and TLS) connection setup.
    var connectTimeout: Double
    /// A transfer slower than `lowSpeedLimit` bytes/s for `lowSpeedTime` seconds is aborted as stalled.
    var lowSpeedLimit: Int
    var lowSpeedTime: Int
    /// Upper bound on open connections, per host and in total; further requests wait in curl's queue.
    var maxConnections: Int
    var tlsVerify: Bool
    /// PEM bundle of trusted CAs for https; nil uses the system default.
    var caBundle: String?
}
