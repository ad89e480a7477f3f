// AWSEnvironmentResolver: the AWS-standard places credentials, region and endpoint come from.
//
// Credentials, first match wins:
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) in the environment;
//   2. the profile (the `profile` argument, else AWS_PROFILE, else "default") in the shared credentials file
//      (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials), then in the config file's profile section
//      (AWS_CONFIG_FILE, else ~/.aws/config; `[profile NAME]`, or `[default]`).
// Region: AWS_REGION, AWS_DEFAULT_REGION, the config profile's `region`.
// Endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the config profile's `endpoint_url`.
// CA bundle: AWS_CA_BUNDLE, the config profile's `ca_bundle`.
// The environment and home directory are parameters, so tests never touch the real ones.

import Foundation

/// What the AWS environment says about how to reach S3.
public struct AWSEnvironment: Equatable, Sendable {
    /// nil only when resolving for anonymous access.
    public var credentials: S3Credentials?
    public var region: String?
    public var endpoint: String?
    public var caBundle: String?
    /// Where the credentials came from, safe to log: "environment", "profile dev in /home/u/.aws/credentials".
    public var credentialSource: String
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
        let credentialsPath = expand(env["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", home: homeDirectory)
        let configPath = expand(env["AWS_CONFIG_FILE"] ?? "~/.aws/config", home: homeDirectory)
        let credentialsFile = try load(credentialsPath)
        let configFile = try load(configPath)
        let fromCredentials = credentialsFile?.sections[profileName]
        let fromConfig = configFile.flatMap { file in
            (profileName == "default" ? file.sections["default"] : nil) ?? file.sections["profile \(profileName)"]
        }
        if (profile != nil || env["AWS_PROFILE"] != nil) && fromCredentials == nil && fromConfig == nil {
            throw CredentialError(
                description: "AWS profile \"\(profileName)\" not found in \(credentialsPath) or \(configPath); "
                    + "add it there or choose another profile")
        }
        var resolved = AWSEnvironment(
            credentials: nil,
            region: env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? fromConfig?["region"],
            endpoint: env["AWS_ENDPOINT_URL_S3"] ?? env["AWS_ENDPOINT_URL"] ?? fromConfig?["endpoint_url"],
            caBundle: env["AWS_CA_BUNDLE"] ?? fromConfig?["ca_bundle"], credentialSource: "none (anonymous)")
        if anonymous { return resolved }
        let sources: [(String, [String: String]?)] = [
            ("profile \(profileName) in \(credentialsPath)", fromCredentials),
            ("profile \(profileName) in \(configPath)", fromConfig),
        ]
        if let keys = try environmentCredentials(env) {
            (resolved.credentials, resolved.credentialSource) = (keys, "environment")
        } else if let (source, keys) = try firstProfileCredentials(sources) {
            (resolved.credentials, resolved.credentialSource) = (keys, source)
        } else {
            throw CredentialError(
                description: "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add "
                    + "aws_access_key_id and aws_secret_access_key to [\(profileName)] in \(credentialsPath), "
                    + "or use --no-sign-request for a public bucket")
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

    private static func firstProfileCredentials(_ sources: [(String, [String: String]?)]) throws(CredentialError)
        -> (String, S3Credentials)?
    {
        for case (let source, let section?) in sources {
            switch (section["aws_access_key_id"], section["aws_secret_access_key"]) {
            case (let id?, let secret?) where !id.isEmpty && !secret.isEmpty:
                return (source, S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: section["aws_session_token"]))
            case (nil, nil):
                if let unsupported = ["role_arn", "credential_process", "sso_session", "sso_start_url"].first(where: {
                    section[$0] != nil
                }) {
                    throw CredentialError(
                        description: "\(source) uses \(unsupported), which s3mount does not support; export "
                            + "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN (e.g. with "
                            + "`aws configure export-credentials --format env`) instead")
                }
            default:
                throw CredentialError(
                    description: "\(source) needs both aws_access_key_id and aws_secret_access_key")
            }
        }
        return nil
    }

    private static func load(_ path: String) throws(CredentialError) -> INIFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CredentialError(description: "cannot read \(path); check its permissions")
        }
        do {
            return try INIFile(parsing: String(decoding: data, as: UTF8.self))
        } catch {
            throw CredentialError(description: "\(path) line \(error.line): \(error.reason)")
        }
    }

    private static func expand(_ path: String, home: String) -> String {
        path == "~" ? home : path.hasPrefix("~/") ? home + path.dropFirst(1) : path
    }
}
