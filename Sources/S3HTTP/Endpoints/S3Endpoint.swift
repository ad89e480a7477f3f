// S3Endpoint: turns (endpoint, bucket, addressing style) into URLs and Host headers for object and bucket
// requests. Keys are percent-encoded once with S3's rules, and the same strings are signed and sent.

import Foundation

struct S3Endpoint: Sendable, Equatable {
    var scheme: String
    /// Host name or IP literal (IPv6 in brackets).
    var host: String
    /// Present only when the URL names a port.
    var port: Int?
    var bucket: String
    var addressingStyle: S3HTTPConfig.AddressingStyle

    init(config: S3HTTPConfig) throws(S3ConfigError) {
        guard !config.bucket.isEmpty else { throw S3ConfigError("bucket name is empty") }
        let text = config.endpoint ?? "https://s3.\(config.region).amazonaws.com"
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw S3ConfigError("endpoint \"\(text)\" is not an http:// or https:// URL with a host")
        }
        guard components.path.isEmpty || components.path == "/", components.query == nil else {
            throw S3ConfigError("endpoint \"\(text)\" must not have a path or query; give only scheme://host[:port]")
        }
        self.scheme = scheme
        self.host = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        port = components.port
        bucket = config.bucket
        addressingStyle = config.addressingStyle ?? (config.endpoint == nil ? .virtualHosted : .path)
        if addressingStyle == .virtualHosted && (bucket.contains(".") && scheme == "https" || bucket.contains("/")) {
            throw S3ConfigError("bucket \"\(bucket)\" cannot be used with virtual-hosted addressing; use path style")
        }
    }

    /// The Host header value: host, plus the port when the URL named one.
    var hostHeader: String {
        let name = addressingStyle == .virtualHosted ? "\(bucket).\(host)" : host
        return port.map { "\(name):\($0)" } ?? name
    }

    /// The unencoded request path for `key` (nil: the bucket itself, as for ListObjectsV2).
    func path(forKey key: String?) -> String {
        switch addressingStyle {
        case .path: "/\(bucket)/\(key ?? "")"
        case .virtualHosted: "/\(key ?? "")"
        }
    }

    /// The full URL for an unencoded path and query, encoded exactly as SigV4 canonicalises them.
    func url(path: String, query: [(name: String, value: String)]) -> String {
        let encodedQuery = URIEncoding.canonicalQuery(query)
        return "\(scheme)://\(hostHeader)\(URIEncoding.canonicalPath(path))"
            + (encodedQuery.isEmpty ? "" : "?\(encodedQuery)")
    }
}
