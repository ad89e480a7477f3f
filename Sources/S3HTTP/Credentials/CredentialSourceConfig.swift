// The credential source the chain settled on at mount, as configured (nothing fetched yet). AWSEnvironmentResolver
// picks it from the environment and the profile files; CredentialChain turns it into a provider and fetches.

/// Which source of the chain is configured, and its settings. Holds keys only for `.keys`.
public indirect enum CredentialSourceConfig: Equatable, Sendable {
    /// --no-sign-request.
    case anonymous
    /// Keys written in the environment or a profile; `source` is "environment" or "profile dev in PATH".
    case keys(S3Credentials, source: String)
    /// AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or a profile's web_identity_token_file + role_arn.
    case webIdentity(tokenFile: String, roleARN: String, sessionName: String)
    /// A profile's role_arn, assumed with the credentials of `source` (its source_profile).
    case assumeRole(
        profile: String, roleARN: String, sessionName: String, externalID: String?, durationSeconds: Int?,
        source: CredentialSourceConfig)
    /// A profile's credential_process.
    case process(profile: String, command: String)
    /// AWS_CONTAINER_CREDENTIALS_FULL_URI / _RELATIVE_URI, with the authorization token or its file.
    case container(url: String, authorizationToken: String?, authorizationTokenFile: String?)
    /// Instance metadata at `endpoint`, the last resort; its failure is `otherwise`'s error.
    case instanceMetadata(endpoint: String, otherwise: NoCredentialsFound)
}
