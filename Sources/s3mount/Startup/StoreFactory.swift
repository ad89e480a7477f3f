import Foundation
import S3HTTP

/// Builds the S3 client configuration from the command line and the AWS environment.
enum StoreFactory {
    static func config(command: S3Mount) throws(MountFailure) -> S3HTTPConfig {
        let options = command.connection
        let environment = ProcessInfo.processInfo.environment
        var credentials: S3Credentials? = nil
        if !options.noSignRequest {
            guard let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"] else {
                throw MountFailure("no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, use --profile, or pass --no-sign-request for a public bucket")
            }
            credentials = S3Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
        }
        return S3HTTPConfig(
            bucket: command.bucket.bucket,
            region: options.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1",
            endpoint: options.endpoint ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"],
            addressingStyle: options.virtualHostedStyle ? .virtualHosted : nil,
            credentials: credentials, connectTimeout: options.connectTimeout, lowSpeedLimit: 1,
            lowSpeedTime: Int(options.stallTimeout.rounded(.up)), maxConnections: options.maxConnections,
            tlsVerify: !options.insecureSkipTLSVerify, caBundle: options.caBundle ?? environment["AWS_CA_BUNDLE"])
    }
}

extension S3HTTPConfig {
    /// The endpoint as the operator would recognise it in an error message.
    var endpointDescription: String { endpoint ?? "https://s3.\(region).amazonaws.com" }
}
