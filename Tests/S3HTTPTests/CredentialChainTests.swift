// The chain's choice of source (environment, web identity, profile with role/process/keys, container, instance
// metadata), profile links and loops, and the errors of the first fetch at mount.

import Foundation
import Logging
import ObjectStore
import Testing

@testable import S3HTTP

struct CredentialChainTests {
    typealias Home = AWSEnvironmentResolverTests.Home

    static let noIMDS = ["AWS_EC2_METADATA_DISABLED": "true"]

    static func source(_ home: Home, _ env: [String: String] = noIMDS, profile: String? = nil) throws -> CredentialSourceConfig {
        try home.resolve(env, profile: profile).credentialSource
    }

    static func error(_ home: Home, _ env: [String: String] = noIMDS, profile: String? = nil) -> String {
        do {
            return "resolved \(try source(home, env, profile: profile))"
        } catch { return "\(error)" }
    }

    @Test func environmentThenWebIdentityThenProfileThenContainer() throws {
        let home = try Home(credentials: "[default]\naws_access_key_id = DEF\naws_secret_access_key = S\n")
        let webIdentity = ["AWS_WEB_IDENTITY_TOKEN_FILE": "/tok", "AWS_ROLE_ARN": "arn:role", "AWS_ROLE_SESSION_NAME": "n"]
        let container = ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/creds"]
        let keys = ["AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "S"]
        #expect(try Self.source(home, keys.merging(webIdentity) { a, _ in a }) == .keys(S3Credentials(accessKeyID: "ENV", secretAccessKey: "S"), source: "environment"))
        #expect(try Self.source(home, webIdentity.merging(container) { a, _ in a }) == .webIdentity(tokenFile: "/tok", roleARN: "arn:role", sessionName: "n"))
        guard case .keys(let fromProfile, _) = try Self.source(home, container) else {
            Issue.record("the default profile's keys come before the container")
            return
        }
        #expect(fromProfile.accessKeyID == "DEF")
        #expect(
            try Self.source(try Home(), container.merging(Self.noIMDS) { a, _ in a })
                == .container(url: "http://169.254.170.2/v2/creds", authorizationToken: nil, authorizationTokenFile: nil))
        let full = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/c", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/t"]
        #expect(try Self.source(try Home(), full) == .container(url: "http://127.0.0.1:9/c", authorizationToken: nil, authorizationTokenFile: "/t"))
        #expect(Self.error(try Home(), ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://example.com/c"]).contains("must be https"))
        #expect(Self.error(home, ["AWS_WEB_IDENTITY_TOKEN_FILE": "/tok"]) == "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not; set both")
    }

    @Test func instanceMetadataIsTheLastResortUnlessDisabled() throws {
        let home = try Home(config: "[default]\nregion = eu-west-1\n")
        let notFound = NoCredentialsFound(
            tried: ["environment", "web identity", "profile default", "container credentials"], profile: "default",
            credentialsPath: home.path + "/.aws/credentials")
        #expect(
            try Self.source(home, ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/"])
                == .instanceMetadata(endpoint: "http://127.0.0.1:9", otherwise: notFound))
        #expect(
            try Self.source(home, [:])
                == .instanceMetadata(endpoint: "http://169.254.169.254", otherwise: notFound))
        #expect(Self.error(home).hasPrefix("no AWS credentials found (tried environment, web identity, profile default"))
    }

    @Test func roleProfilesFollowSourceProfiles() throws {
        let home = try Home(
            credentials: "[base]\naws_access_key_id = BASE\naws_secret_access_key = S\n",
            config: """
                [profile dev]
                role_arn = arn:aws:iam::1:role/dev
                source_profile = base
                role_session_name = dev-session
                external_id = ext
                duration_seconds = 1800
                [profile chained]
                role_arn = arn:aws:iam::1:role/chained
                source_profile = dev
                role_session_name = c
                [profile self]
                role_arn = arn:aws:iam::1:role/self
                source_profile = self
                role_session_name = s
                aws_access_key_id = SELF
                aws_secret_access_key = S
                [profile proc]
                credential_process = /usr/bin/get-creds --json
                [profile web]
                role_arn = arn:aws:iam::1:role/web
                web_identity_token_file = /var/tok
                role_session_name = w
                """)
        let base = CredentialSourceConfig.keys(
            S3Credentials(accessKeyID: "BASE", secretAccessKey: "S"), source: "profile base in \(home.path)/.aws/credentials")
        let dev = CredentialSourceConfig.assumeRole(
            profile: "dev", roleARN: "arn:aws:iam::1:role/dev", sessionName: "dev-session", externalID: "ext",
            durationSeconds: 1800, source: base)
        #expect(try Self.source(home, profile: "dev") == dev)
        #expect(
            try Self.source(home, profile: "chained")
                == .assumeRole(
                    profile: "chained", roleARN: "arn:aws:iam::1:role/chained", sessionName: "c", externalID: nil,
                    durationSeconds: nil, source: dev))
        #expect(
            try Self.source(home, profile: "self")
                == .assumeRole(
                    profile: "self", roleARN: "arn:aws:iam::1:role/self", sessionName: "s", externalID: nil,
                    durationSeconds: nil,
                    source: .keys(
                        S3Credentials(accessKeyID: "SELF", secretAccessKey: "S"),
                        source: "profile self in \(home.path)/.aws/config")))
        #expect(try Self.source(home, profile: "proc") == .process(profile: "proc", command: "/usr/bin/get-creds --json"))
        #expect(
            try Self.source(home, profile: "web")
                == .webIdentity(tokenFile: "/var/tok", roleARN: "arn:aws:iam::1:role/web", sessionName: "w"))
    }

    @Test func brokenRoleProfilesAreExplained() throws {
        let home = try Home(
            config: """
                [profile a]
                role_arn = arn:a
                source_profile = b
                [profile b]
                role_arn = arn:b
                source_profile = a
                [profile orphan]
                role_arn = arn:o
                source_profile = missing
                [profile empty]
                role_arn = arn:e
                source_profile = regiononly
                [profile regiononly]
                region = eu-west-1
                [profile long]
                role_arn = arn:l
                source_profile = a
                duration_seconds = 99
                [profile sso]
                sso_session = corp
                """)
        #expect(Self.error(home, profile: "a").hasPrefix("profiles a -> b -> a form a source_profile loop"))
        #expect(Self.error(home, profile: "orphan").hasPrefix("profile orphan: source_profile missing does not exist"))
        #expect(Self.error(home, profile: "empty").hasPrefix("profile empty: source_profile regiononly has no credentials"))
        #expect(Self.error(home, profile: "long") == "profile long: duration_seconds \"99\" must be 900 to 43200")
        #expect(Self.error(home, profile: "sso").contains("uses sso_session, which s3mount does not support"))
    }

    @Test func configuredSourceThatFailsIsNamedNotSkipped() async {
        let transport = FakeTransport(status: 500, body: "")
        let config = CredentialSourceConfig.container(
            url: "http://127.0.0.1:7/c", authorizationToken: nil, authorizationTokenFile: nil)
        await #expect(
            throws: CredentialError(
                description: "cannot get AWS credentials: container credentials (http://127.0.0.1:7/c) answered HTTP 500; "
                    + "check AWS_CONTAINER_CREDENTIALS_FULL_URI (or _RELATIVE_URI) and AWS_CONTAINER_AUTHORIZATION_TOKEN (or _FILE)")
        ) {
            try await CredentialChain.start(
                config, processEnvironment: [:], region: "us-east-1", transport: transport,
                logger: Logger(label: "test"))
        }
    }

    @Test func instanceMetadataFailingMeansNoCredentialsAnywhere() async {
        let transport = FakeTransport { _ in .failure(ClientError(kind: .connectionRefused, detail: "refused")) }
        let config = CredentialSourceConfig.instanceMetadata(
            endpoint: "http://127.0.0.1:9",
            otherwise: NoCredentialsFound(
                tried: ["environment", "web identity", "profile dev", "container credentials"], profile: "dev",
                credentialsPath: "/c"))
        do {
            _ = try await CredentialChain.start(
                config, processEnvironment: [:], region: "us-east-1", transport: transport, logger: Logger(label: "test"))
            Issue.record("no credentials should be found")
        } catch {
            #expect(
                error.description
                    == "no AWS credentials found (tried environment, web identity, profile dev, container credentials, "
                    + "instance metadata (http://127.0.0.1:9): no answer for session token (refused)): set "
                    + "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add aws_access_key_id and aws_secret_access_key "
                    + "(or role_arn, or credential_process) to [dev] in /c, or use --no-sign-request for a public bucket")
        }
    }

    @Test func assumeRoleSignsWithTheSourceProfilesKeys() async throws {
        let transport = FakeTransport(status: 200, body: STSClientTests.answer)
        let config = CredentialSourceConfig.assumeRole(
            profile: "dev", roleARN: "arn:aws:iam::1:role/dev", sessionName: "s", externalID: nil, durationSeconds: nil,
            source: .keys(S3Credentials(accessKeyID: "BASEKEY", secretAccessKey: "S"), source: "profile base"))
        let cache = try await CredentialChain.start(
            config, processEnvironment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:4"], region: "eu-west-1",
            transport: transport, logger: Logger(label: "test"))
        #expect(cache.source == "profile dev (role arn:aws:iam::1:role/dev from profile base)")
        #expect(try await cache.current().accessKeyID == "ASIAROLE")
        #expect(transport.requests.first?.header("Authorization")?.contains("Credential=BASEKEY/") == true)
        #expect(transport.requests.first?.url == "http://127.0.0.1:4/")
    }
}
