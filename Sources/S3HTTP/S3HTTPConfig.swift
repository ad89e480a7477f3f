// The settings an S3HTTPStore is built from. The CLI fills this from flags and the AWS environment
// (see AWSEnvironmentResolver); nothing here reads the process environment itself.

/// Where and how to reach one bucket.
public struct S3HTTPConfig: Sendable {
    public enum AddressingStyle: String, Sendable {
        /// `https://host/bucket/key`: the default for custom endpoints (Ceph RGW, MinIO, ...).
        case path
        /// `https://bucket.host/key`: the default for AWS.
        case virtualHosted
    }

    public var bucket: String
    /// Signing region; also picks the AWS endpoint when `endpoint` is nil.
    public var region: String
    /// "http://127.0.0.1:7480" or "https://s3.example.com:8443"; nil means AWS: https://s3.REGION.amazonaws.com.
    public var endpoint: String?
    /// nil picks path style for a custom endpoint and virtual-hosted style for AWS.
    public var addressingStyle: AddressingStyle?
    /// Keys that never change; nil with no `refreshingCredentials` sends unsigned (anonymous) requests, as
    /// `--no-sign-request`.
    public var credentials: S3Credentials?
    /// Credentials kept fresh from a source of the AWS chain (CredentialChain.start); wins over `credentials`.
    /// Share one between the configurations of one mount, so all endpoints see the same refresh.
    public var refreshingCredentials: RefreshingCredentials?
    /// Whether requests are signed (with either kind of credentials).
    public var signsRequests: Bool { credentials != nil || refreshingCredentials != nil }
    /// Seconds allowed for TCP and TLS connection setup.
    public var connectTimeout: Double
    /// A transfer below `lowSpeedLimit` bytes/s for `lowSpeedTime` seconds is aborted as stalled (timedOut).
    public var lowSpeedLimit: Int
    public var lowSpeedTime: Int
    /// Most connections open at once (per host and in total); more concurrent requests queue.
    public var maxConnections: Int
    /// Verify the server certificate and host name (https). Turn off only for test servers.
    public var tlsVerify: Bool
    /// PEM file of trusted CAs for https (e.g. from AWS_CA_BUNDLE); nil uses the system store.
    public var caBundle: String?

    public init(
        bucket: String, region: String = "us-east-1", endpoint: String? = nil,
        addressingStyle: AddressingStyle? = nil, credentials: S3Credentials? = nil, connectTimeout: Double = 5,
        lowSpeedLimit: Int = 1, lowSpeedTime: Int = 30, maxConnections: Int = 16, tlsVerify: Bool = true,
        caBundle: String? = nil, refreshingCredentials: RefreshingCredentials? = nil
    ) {
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
        self.addressingStyle = addressingStyle
        self.credentials = credentials
        self.connectTimeout = connectTimeout
        self.lowSpeedLimit = lowSpeedLimit
        self.lowSpeedTime = lowSpeedTime
        self.maxConnections = maxConnections
        self.tlsVerify = tlsVerify
        self.caBundle = caBundle
        self.refreshingCredentials = refreshingCredentials
    }
}

/// A configuration the store cannot work with; `description` names the setting and the fix.
public struct S3ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
