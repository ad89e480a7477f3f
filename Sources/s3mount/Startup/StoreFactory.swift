import Foundation
import Logging
import S3HTTP

/// Builds the S3 client configurations from the command line and the AWS environment (credentials chain, region,
/// endpoint, CA bundle); flags win over the environment. One configuration per endpoint (--endpoint repeated), all
/// sharing one RefreshingCredentials, fetched here: a source that cannot give credentials fails the mount. The TLS
/// settings are checked and their risks logged here (TransportSecurity).
enum StoreFactory {
    static func configs(command: S3Mount, logger: Logger) throws(MountFailure) -> [S3HTTPConfig] {
        let options = command.connection
        let environment = ProcessInfo.processInfo.environment
        let home = environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
        let aws: AWSEnvironment
        do {
            aws = try AWSEnvironmentResolver.resolve(
                environment: environment, homeDirectory: home, profile: options.profile,
                anonymous: options.noSignRequest)
        } catch {
            throw MountFailure(error.description)
        }
        let region = options.region ?? aws.region ?? "us-east-1"
        let started = BlockingWait.result { () async throws(CredentialError) -> RefreshingCredentials? in
            try await CredentialChain.start(
                aws, processEnvironment: environment, region: region, logger: logger)
        }
        let credentials: RefreshingCredentials?
        switch started {
        case .success(let value): credentials = value
        case .failure(let error): throw MountFailure(error.description)
        }
        logger.notice("credentials", metadata: ["source": "\(credentials?.source ?? "none (anonymous)")"])
        let endpoints: [String?] = options.endpoints.isEmpty ? [aws.endpoint] : options.endpoints
        let configs = endpoints.map { endpoint in
            S3HTTPConfig(
                bucket: command.bucket.bucket, region: region, endpoint: endpoint,
                addressingStyle: options.virtualHostedStyle ? .virtualHosted : nil,
                connectTimeout: options.connectTimeout, lowSpeedLimit: 1,
                lowSpeedTime: Int(options.stallTimeout.rounded(.up)), maxConnections: options.maxConnections,
                tlsVerify: !options.insecureSkipTLSVerify, caBundle: options.caBundle ?? aws.caBundle,
                refreshingCredentials: credentials)
        }
        let caSource = options.caBundle != nil
            ? "--ca-bundle" : environment["AWS_CA_BUNDLE"] != nil ? "AWS_CA_BUNDLE" : "ca_bundle in the AWS config file"
        try TransportSecurity.checkCABundle(of: configs, source: caSource)
        for line in TransportSecurity.warnings(for: configs) { logger.warning("\(line)") }
        return configs
    }
}

extension S3HTTPConfig {
    /// The endpoint as the operator would recognise it in an error message.
    var endpointDescription: String { endpoint ?? "https://s3.\(region).amazonaws.com" }
}
