// AWSEnvironmentResolver: the AWS-standard places credentials, region and endpoint come from.
//
// Credentials, in the order of the SDKs' default chain (the Java SDK's: environment, web identity, profile,
// container, instance metadata). The first source that is configured is the one used; when it then fails, the
// mount fails naming it (no silent fall-through to the next one). Only instance metadata, the last resort, is
// "configured" everywhere, so its failure is reported as "no credentials found", naming every source tried:
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) in the environment;
//   2. AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME): STS AssumeRoleWithWebIdentity;
//   3. the profile (the `profile` argument, else AWS_PROFILE, else "default") in the shared credentials file
//      (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials) and the config file (AWS_CONFIG_FILE, else
//      ~/.aws/config; `[profile NAME]`, or `[default]`), the credentials file winning key by key: role_arn with
//      source_profile (or web_identity_token_file), else credential_process, else the static keys;
//   4. AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI (+ AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]);
//   5. instance metadata at AWS_EC2_METADATA_SERVICE_ENDPOINT or 169.254.169.254, unless
//      AWS_EC2_METADATA_DISABLED=true.
// Region: AWS_REGION, AWS_DEFAULT_REGION, the config profile's `region`.
// Endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the config profile's `endpoint_url`.
// CA bundle: AWS_CA_BUNDLE, the config profile's `ca_bundle`.
// Nothing is fetched here (see CredentialChain). The environment and home directory are parameters, so tests
// never touch the real ones.

import Foundation

/// What the AWS environment says about how to reach S3.
public struct AWSEnvironment: Equatable, Sendable {
    public var credentialSource: CredentialSourceConfig
    public var region: String?
    public var endpoint: String?
    public var caBundle: String?

    /// The keys when the source is one that writes them down (environment, a profile's keys); else nil.
    public var credentials: S3Credentials? {
        if case .keys(let keys, _) = credentialSource { keys } else { nil }
    }
}

/// Why credentials could not be resolved; `description` names what is missing and how to fix it.
public struct CredentialError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
}

public enum AWSEnvironmentResolver {
    /// Resolves from `environment` and the AWS files under `homeDirectory`. With `anonymous`, missing
    /// credentials are fine (`--no-sign-request`); region and endpoint are still resolved.
    public static func resolve(
        environment: [String: String], homeDirectory: String, profile: String? = nil, anonymous: Bool = false
    ) throws(CredentialError) -> AWSEnvironment {
        let env = environment.filter { !$0.value.isEmpty }
        let profileName = profile ?? env["AWS_PROFILE"] ?? "default"
        let files = try ProfileFiles(environment: env, homeDirectory: homeDirectory)
        let section = files.profile(profileName)
        if (profile != nil || env["AWS_PROFILE"] != nil) && section == nil {
            throw CredentialError(
                description: "AWS profile \"\(profileName)\" not found in \(files.credentialsPath) or "
                    + "\(files.configPath); add it there or choose another profile")
        }
        let configSection = files.configSection(profileName)
        var resolved = AWSEnvironment(
            credentialSource: .anonymous,
            region: env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? configSection?["region"],
            endpoint: env["AWS_ENDPOINT_URL_S3"] ?? env["AWS_ENDPOINT_URL"] ?? configSection?["endpoint_url"],
            caBundle: env["AWS_CA_BUNDLE"] ?? configSection?["ca_bundle"])
        if anonymous { return resolved }
        if let keys = try environmentCredentials(env) {
            resolved.credentialSource = .keys(keys, source: "environment")
        } else if let webIdentity = try webIdentity(env) {
            resolved.credentialSource = webIdentity
        } else if let fromProfile = try ProfileCredentialResolver(files: files).resolve(profileName) {
            resolved.credentialSource = fromProfile
        } else if let container = try container(env) {
            resolved.credentialSource = container
        } else {
            let notFound = NoCredentialsFound(
                tried: ["environment", "web identity", "profile \(profileName)", "container credentials"],
                profile: profileName, credentialsPath: files.credentialsPath)
            guard env["AWS_EC2_METADATA_DISABLED"]?.lowercased() != "true" else {
                throw notFound.error(after: "instance metadata (disabled by AWS_EC2_METADATA_DISABLED)")
            }
            let endpoint = env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
            resolved.credentialSource = .instanceMetadata(
                endpoint: endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint, otherwise: notFound)
        }
        return resolved
    }

    private static func environmentCredentials(_ env: [String: String]) throws(CredentialError) -> S3Credentials? {
        switch (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) {
        case (let id?, let secret?):
            return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: env["AWS_SESSION_TOKEN"])
        case (_?, nil):
            throw CredentialError(description: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both")
        case (nil, _?):
            throw CredentialError(description: "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; set both")
        case (nil, nil):
            return nil
        }
    }

    private static func webIdentity(_ env: [String: String]) throws(CredentialError) -> CredentialSourceConfig? {
        switch (env["AWS_WEB_IDENTITY_TOKEN_FILE"], env["AWS_ROLE_ARN"]) {
        case (let file?, let role?):
            return .webIdentity(
                tokenFile: file, roleARN: role, sessionName: env["AWS_ROLE_SESSION_NAME"] ?? defaultSessionName())
        case (_?, nil):
            throw CredentialError(description: "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not; set both")
        case (nil, _?), (nil, nil):
            return nil  // AWS_ROLE_ARN alone configures nothing in the SDKs either
        }
    }

    private static func container(_ env: [String: String]) throws(CredentialError) -> CredentialSourceConfig? {
        let url: String
        if let relative = env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            url = "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)
        } else if let full = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] {
            try ContainerCredentialProvider.validateFullURI(full)
            url = full
        } else {
            return nil
        }
        return .container(
            url: url, authorizationToken: env["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
            authorizationTokenFile: env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"])
    }

    /// "s3mount-1764480000": the session name when none is configured (the SDKs also make one up).
    static func defaultSessionName() -> String {
        "s3mount-\(Int(Date().timeIntervalSince1970))"
    }
}
