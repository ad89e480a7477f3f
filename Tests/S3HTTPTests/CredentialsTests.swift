// INI parsing and the credential/region/endpoint chain, over a temporary home directory.

import Foundation
import Testing

@testable import S3HTTP

struct INIFileTests {
    @Test func parsesSectionsKeysAndComments() throws {
        let ini = try INIFile(
            parsing: """
                # comment
                [default]
                aws_access_key_id = AKID
                AWS_Secret_Access_Key=secret=with=equals\r
                ; another comment

                [profile dev]
                region = eu-west-1
                s3 =
                  addressing_style = path
                endpoint_url = http://127.0.0.1:7480
                """)
        #expect(ini.sections["default"] == ["aws_access_key_id": "AKID", "aws_secret_access_key": "secret=with=equals"])
        #expect(
            ini.sections["profile dev"] == ["region": "eu-west-1", "s3": "", "endpoint_url": "http://127.0.0.1:7480"])
    }

    @Test func rejectsMalformedLines() {
        #expect(throws: INIError(line: 1, reason: "setting before any [section]")) { try INIFile(parsing: "a = b") }
        #expect(throws: INIError(line: 2, reason: "expected `key = value`")) { try INIFile(parsing: "[x]\nnot a pair") }
        #expect(throws: INIError(line: 1, reason: "bad section header")) { try INIFile(parsing: "[open") }
    }
}

struct AWSEnvironmentResolverTests {
    /// A temporary home with optional ~/.aws/credentials and ~/.aws/config.
    struct Home {
        let path: String

        init(credentials: String? = nil, config: String? = nil) throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("s3http-home-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path + "/.aws", withIntermediateDirectories: true)
            if let credentials { try credentials.write(toFile: path + "/.aws/credentials", atomically: true, encoding: .utf8) }
            if let config { try config.write(toFile: path + "/.aws/config", atomically: true, encoding: .utf8) }
        }

        func resolve(_ env: [String: String] = [:], profile: String? = nil, anonymous: Bool = false) throws
            -> AWSEnvironment
        {
            try AWSEnvironmentResolver.resolve(environment: env, homeDirectory: path, profile: profile, anonymous: anonymous)
        }
    }

    static let files = (
        credentials: "[default]\naws_access_key_id = DEFKEY\naws_secret_access_key = DEFSECRET\n"
            + "[dev]\naws_access_key_id = DEVKEY\naws_secret_access_key = DEVSECRET\naws_session_token = DEVTOKEN\n",
        config: "[default]\nregion = us-west-2\n[profile dev]\nregion = eu-central-1\nendpoint_url = http://127.0.0.1:7480\n"
            + "ca_bundle = /etc/dev-ca.pem\n"
    )

    @Test func environmentKeysWin() throws {
        let home = try Home(credentials: Self.files.credentials, config: Self.files.config)
        let resolved = try home.resolve([
            "AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "ENVSECRET", "AWS_SESSION_TOKEN": "ENVTOKEN",
            "AWS_REGION": "ap-south-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        ])
        #expect(
            resolved.credentialSource
                == .keys(
                    S3Credentials(accessKeyID: "ENVKEY", secretAccessKey: "ENVSECRET", sessionToken: "ENVTOKEN"),
                    source: "environment"))
        #expect(resolved.region == "ap-south-1")
        #expect(resolved.endpoint == "http://127.0.0.1:9000")
    }

    @Test func defaultProfileFromFiles() throws {
        let home = try Home(credentials: Self.files.credentials, config: Self.files.config)
        let resolved = try home.resolve()
        #expect(
            resolved.credentialSource
                == .keys(
                    S3Credentials(accessKeyID: "DEFKEY", secretAccessKey: "DEFSECRET"),
                    source: "profile default in \(home.path)/.aws/credentials"))
        #expect(resolved.region == "us-west-2")
        #expect(resolved.endpoint == nil)
    }

    @Test func namedProfileFromArgumentOrAWSProfile() throws {
        let home = try Home(credentials: Self.files.credentials, config: Self.files.config)
        for resolved in [try home.resolve(profile: "dev"), try home.resolve(["AWS_PROFILE": "dev"])] {
            #expect(resolved.credentials == S3Credentials(accessKeyID: "DEVKEY", secretAccessKey: "DEVSECRET", sessionToken: "DEVTOKEN"))
            #expect(resolved.region == "eu-central-1")
            #expect(resolved.endpoint == "http://127.0.0.1:7480")
            #expect(resolved.caBundle == "/etc/dev-ca.pem")
        }
    }

    @Test func endpointAndRegionPrecedence() throws {
        let home = try Home(credentials: Self.files.credentials, config: Self.files.config)
        let resolved = try home.resolve(
            ["AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1", "AWS_ENDPOINT_URL": "http://127.0.0.1:2",
             "AWS_DEFAULT_REGION": "sa-east-1", "AWS_CA_BUNDLE": "/ca.pem"],
            profile: "dev")
        #expect(resolved.endpoint == "http://127.0.0.1:1")
        #expect(resolved.region == "sa-east-1")
        #expect(resolved.caBundle == "/ca.pem")
    }

    @Test func credentialsInTheConfigFileAndOverriddenPaths() throws {
        let home = try Home()
        let config = home.path + "/elsewhere.ini"
        try "[profile ci]\naws_access_key_id = K\naws_secret_access_key = S\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let resolved = try home.resolve(["AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": "~/none"], profile: "ci")
        #expect(
            resolved.credentialSource
                == .keys(S3Credentials(accessKeyID: "K", secretAccessKey: "S"), source: "profile ci in \(config)"))
    }

    @Test func explainsWhatIsMissing() throws {
        let home = try Home(credentials: "[half]\naws_access_key_id = K\n[role]\nrole_arn = arn:aws:iam::1:role/x\n")
        func message(_ env: [String: String], profile: String? = nil) -> String {
            do {
                _ = try home.resolve(env, profile: profile)
                return "resolved"
            } catch { return "\(error)" }
        }
        let noIMDS = ["AWS_EC2_METADATA_DISABLED": "true"]
        #expect(
            message(noIMDS)
                == "no AWS credentials found (tried environment, web identity, profile default, container credentials, "
                + "instance metadata (disabled by AWS_EC2_METADATA_DISABLED)): set AWS_ACCESS_KEY_ID and "
                + "AWS_SECRET_ACCESS_KEY, or add aws_access_key_id and aws_secret_access_key (or role_arn, or "
                + "credential_process) to [default] in \(home.path)/.aws/credentials, or use --no-sign-request for a "
                + "public bucket")
        #expect(message(["AWS_ACCESS_KEY_ID": "K"]).contains("AWS_SECRET_ACCESS_KEY is not"))
        #expect(message([:], profile: "nope").contains("AWS profile \"nope\" not found"))
        #expect(message([:], profile: "half").contains("needs both aws_access_key_id and aws_secret_access_key"))
        #expect(message([:], profile: "role").contains("profile role has role_arn but no source_profile"))
    }

    @Test func anonymousNeedsNoCredentials() throws {
        let resolved = try Home().resolve(["AWS_ENDPOINT_URL": "http://127.0.0.1:7480"], anonymous: true)
        #expect(resolved.credentials == nil)
        #expect(resolved.endpoint == "http://127.0.0.1:7480")
    }
}
