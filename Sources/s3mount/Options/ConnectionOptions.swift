import ArgumentParser
import EndpointPool

/// Where the bucket is and how to reach it.
struct ConnectionOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "S3 endpoint URL, e.g. http://127.0.0.1:7480 (default: AWS_ENDPOINT_URL, else AWS S3 for --region).",
            discussion: "Several gateways of one cluster: repeat --endpoint, or separate the URLs with ',' or '|' (in -o lists, repeat endpoint= or use '|')."))
    var endpoint: [String] = []

    @Option(help: "With several endpoints: balanced (spread by requests in flight and latency) or failover (first healthy).")
    var endpointPolicy: EndpointPolicy = .balanced

    @Option(help: "With several endpoints: hedged (twin) GETs at most this percentage of GETs; 0 turns hedging off.")
    var hedgePercent: Double = 5

    @Option(help: "If no endpoint answers at mount time, keep trying this many seconds instead of failing.")
    var waitForEndpoints: Double = 0

    @Option(help: "Rewrite this file every second with each endpoint's state and counters (JSON).")
    var statsFile: String?

    @Option(help: "Region used for signing and for the AWS endpoint (default: AWS_REGION, the profile's, us-east-1).")
    var region: String?

    @Option(help: "Profile in ~/.aws/credentials and ~/.aws/config (default: AWS_PROFILE, else 'default').")
    var profile: String?

    @Flag(help: "Send unsigned requests, for public buckets; no credentials are looked up.")
    var noSignRequest = false

    @Flag(help: "Use virtual-hosted-style URLs (bucket.host) instead of path-style (host/bucket) for --endpoint.")
    var virtualHostedStyle = false

    @Flag(help: "Do not verify the server's TLS certificate. Only for test servers with self-signed certificates.")
    var insecureSkipTLSVerify = false

    @Option(help: "CA bundle (PEM) to verify the server's certificate with (default: AWS_CA_BUNDLE, else the system's).")
    var caBundle: String?

    @Option(help: "Seconds to wait for a TCP/TLS connection to the endpoint.")
    var connectTimeout: Double = 5

    @Option(help: "Seconds a transfer may make no progress before it is abandoned.")
    var stallTimeout: Double = 10

    @Option(help: "Most GETs in flight at once (and connections to the endpoint).")
    var maxConnections: Int = 32

    /// Every URL given, in order, the separated forms split.
    var endpoints: [String] {
        endpoint.flatMap { $0.split(whereSeparator: { $0 == "," || $0 == "|" }).map(String.init) }
    }

    mutating func validate() throws {
        var seen: Set<String> = []
        for url in endpoints {
            if !(url.hasPrefix("http://") || url.hasPrefix("https://")) || url.count < 9 {
                throw ValidationError("--endpoint must be an http:// or https:// URL, got '\(url)'")
            }
            if !seen.insert(url).inserted { throw ValidationError("--endpoint \(url) is given twice") }
        }
        guard waitForEndpoints >= 0, waitForEndpoints <= 86400 else {
            throw ValidationError("--wait-for-endpoints must be between 0 and 86400 seconds, got \(waitForEndpoints)")
        }
        guard hedgePercent >= 0, hedgePercent <= 50 else {
            throw ValidationError("--hedge-percent must be between 0 and 50, got \(hedgePercent)")
        }
        guard connectTimeout > 0, connectTimeout <= 300 else {
            throw ValidationError("--connect-timeout must be between 0 and 300 seconds, got \(connectTimeout)")
        }
        guard stallTimeout >= 1, stallTimeout <= 3600 else {
            throw ValidationError("--stall-timeout must be between 1 and 3600 seconds, got \(stallTimeout)")
        }
        guard (1...1024).contains(maxConnections) else {
            throw ValidationError("--max-connections must be between 1 and 1024, got \(maxConnections)")
        }
    }
}
