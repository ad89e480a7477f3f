// CredentialChain: from the configured source (AWSEnvironmentResolver) to a provider, and the first fetch at
// mount. A configured source that fails is an error naming it; instance metadata, the chain's last resort,
// failing means no source had credentials, reported as one line listing every source tried.

import Logging

public enum CredentialChain {
    /// The provider for `config` (not `.anonymous`). STS calls go to the endpoint the environment names, signed
    /// for `region`; all HTTP goes through `transport`.
    static func provider(
        for config: CredentialSourceConfig, environment: [String: String], region: String?, transport: any HTTPTransport
    ) -> any CredentialProvider {
        let sts = STSClient(transport: transport, environment: environment, region: region)
        switch config {
        case .anonymous:
            preconditionFailure("anonymous access has no credential provider")
        case .keys(let keys, let source):
            return FixedCredentials(credentials: keys, source: source)
        case .webIdentity(let tokenFile, let roleARN, let sessionName):
            return WebIdentityProvider(tokenFile: tokenFile, roleARN: roleARN, sessionName: sessionName, sts: sts)
        case .assumeRole(let profile, let roleARN, let sessionName, let externalID, let durationSeconds, let source):
            return AssumeRoleProvider(
                profile: profile, roleARN: roleARN, sessionName: sessionName, externalID: externalID,
                durationSeconds: durationSeconds,
                sourceProvider: provider(for: source, environment: environment, region: region, transport: transport),
                sts: sts)
        case .process(let profile, let command):
            return CredentialProcessProvider(profile: profile, command: command)
        case .container(let url, let token, let tokenFile):
            return ContainerCredentialProvider(
                url: url, authorizationToken: token, authorizationTokenFile: tokenFile, transport: transport)
        case .instanceMetadata(let endpoint, _):
            return InstanceMetadataProvider(endpoint: endpoint, transport: transport)
        }
    }

    /// Fetches the first credentials from the source `environment` configured and returns the cache that keeps
    /// them fresh; nil for anonymous access.
    public static func start(
        _ environment: AWSEnvironment, processEnvironment: [String: String], region: String, logger: Logger
    ) async throws(CredentialError) -> RefreshingCredentials? {
        guard environment.credentialSource != .anonymous else { return nil }
        let transport: TransferEngine
        do {
            transport = try TransferEngine.forCredentialServices(caBundle: environment.caBundle)
        } catch {
            throw CredentialError(description: "cannot start the HTTP client for credentials: \(error.detail)")
        }
        return try await start(
            environment.credentialSource, processEnvironment: processEnvironment, region: region, transport: transport,
            logger: logger)
    }

    static func start(
        _ config: CredentialSourceConfig, processEnvironment: [String: String], region: String,
        transport: any HTTPTransport, logger: Logger, clock: @escaping @Sendable () -> Double = RefreshingCredentials.now
    ) async throws(CredentialError) -> RefreshingCredentials {
        let environment = processEnvironment.filter { !$0.value.isEmpty }
        let provider = provider(for: config, environment: environment, region: region, transport: transport)
        do {
            return try await RefreshingCredentials.start(provider, logger: logger, clock: clock)
        } catch {
            guard case .instanceMetadata(_, let notFound) = config else {
                throw CredentialError(description: "cannot get AWS credentials: \(error.description); \(fix(for: config))")
            }
            throw notFound.error(after: error.description)
        }
    }

    /// What to check when the configured source failed.
    private static func fix(for config: CredentialSourceConfig) -> String {
        switch config {
        case .anonymous, .keys, .instanceMetadata:
            "check the credential settings"
        case .webIdentity:
            "check AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN (or the profile's web_identity_token_file and role_arn) "
                + "and the role's trust policy"
        case .assumeRole(let profile, _, _, _, _, _):
            "check role_arn and source_profile of profile \(profile) and the role's trust policy"
        case .process(let profile, _):
            "run the credential_process of profile \(profile) by hand to see why"
        case .container:
            "check AWS_CONTAINER_CREDENTIALS_FULL_URI (or _RELATIVE_URI) and AWS_CONTAINER_AUTHORIZATION_TOKEN (or _FILE)"
        }
    }
}
