// Each credential source against a fake HTTP layer (or a real shell for credential_process): what it sends, what
// it accepts, and that its errors name the source without quoting a secret.

import Foundation
import ObjectStore
import Testing

@testable import S3HTTP

struct CredentialDocumentTests {
    @Test func readsKeysTokenAndExpiration() throws {
        let json = #"{"AccessKeyId":"AK","SecretAccessKey":"SK","Token":"TK","Expiration":"2026-11-30T12:00:00Z"}"#
        let parsed = try CredentialDocument.parse(Array(json.utf8), source: "x", tokenField: "Token", expirationRequired: true)
        #expect(parsed == S3Credentials(accessKeyID: "AK", secretAccessKey: "SK", sessionToken: "TK", expiration: 1_796_040_000))
        let python = #"{"AccessKeyId":"AK","SecretAccessKey":"SK","Expiration":"2026-11-30T12:00:00+00:00"}"#
        #expect(
            try CredentialDocument.parse(Array(python.utf8), source: "x", tokenField: "Token", expirationRequired: true)
                .expiration == 1_796_040_000)
    }

    @Test func rejectsIncompleteDocumentsWithoutQuotingThem() {
        func error(_ json: String, expirationRequired: Bool = true) -> String {
            do {
                _ = try CredentialDocument.parse(
                    Array(json.utf8), source: "src", tokenField: "Token", expirationRequired: expirationRequired)
                return "parsed"
            } catch { return error.description }
        }
        #expect(error("not json") == "src did not answer a JSON object")
        #expect(error(#"{"AccessKeyId":"AK"}"#) == "src answered without AccessKeyId and SecretAccessKey")
        #expect(error(#"{"AccessKeyId":"AK","SecretAccessKey":"SECRETVALUE"}"#) == "src answered without Expiration")
        #expect(error(#"{"AccessKeyId":"AK","SecretAccessKey":"SK"}"#, expirationRequired: false) == "parsed")
        let bad = error(#"{"AccessKeyId":"AK","SecretAccessKey":"SECRETVALUE","Expiration":"soon"}"#)
        #expect(bad == "src answered an Expiration that is not an ISO 8601 time")
    }
}

struct STSClientTests {
    static let answer = """
        <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
        <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser>
        <Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>rolesecret</SecretAccessKey>
        <SessionToken>roletoken</SessionToken><Expiration>2026-11-30T12:00:00Z</Expiration></Credentials>
        </AssumeRoleResult></AssumeRoleResponse>
        """

    @Test func endpointFromTheEnvironmentOrTheRegion() {
        let transport = FakeTransport(status: 500, body: "")
        #expect(STSClient(transport: transport, environment: [:], region: "eu-west-1").endpoint == "https://sts.eu-west-1.amazonaws.com")
        #expect(STSClient(transport: transport, environment: [:], region: nil).endpoint == "https://sts.us-east-1.amazonaws.com")
        let both = ["AWS_ENDPOINT_URL": "http://127.0.0.1:1/", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:2"]
        #expect(STSClient(transport: transport, environment: both, region: nil).endpoint == "http://127.0.0.1:2")
        #expect(
            STSClient(transport: transport, environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:1/"], region: nil).endpoint
                == "http://127.0.0.1:1")
    }

    @Test func assumeRoleIsASignedFormPost() async throws {
        let transport = FakeTransport(status: 200, body: Self.answer)
        let sts = STSClient(transport: transport, environment: ["AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9"], region: "eu-west-1")
        let source = S3Credentials(accessKeyID: "AKSOURCE", secretAccessKey: "sourcesecret", sessionToken: "sourcetoken")
        let fresh = try await sts.assumeRole(
            roleARN: "arn:aws:iam::1:role/r", sessionName: "s", externalID: "ext", durationSeconds: 900, with: source)
        #expect(fresh == S3Credentials(accessKeyID: "ASIAROLE", secretAccessKey: "rolesecret", sessionToken: "roletoken", expiration: 1_796_040_000))
        let request = try #require(transport.requests.first)
        #expect(request.method == .post && request.url == "http://127.0.0.1:9/")
        #expect(
            request.formFields == [
                "Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": "arn:aws:iam::1:role/r",
                "RoleSessionName": "s", "ExternalId": "ext", "DurationSeconds": "900",
            ])
        let authorization = try #require(request.header("Authorization"))
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKSOURCE/"))
        #expect(authorization.contains("/eu-west-1/sts/aws4_request"))
        #expect(request.header("x-amz-security-token") == "sourcetoken")
    }

    @Test func webIdentityIsUnsignedAndCarriesTheToken() async throws {
        let answer = Self.answer.replacingOccurrences(of: "AssumeRoleResponse", with: "AssumeRoleWithWebIdentityResponse")
            .replacingOccurrences(of: "AssumeRoleResult", with: "AssumeRoleWithWebIdentityResult")
        let transport = FakeTransport(status: 200, body: answer)
        let sts = STSClient(transport: transport, environment: [:], region: "us-west-2")
        let fresh = try await sts.assumeRoleWithWebIdentity(roleARN: "arn:aws:iam::1:role/w", sessionName: "n", token: "jwt")
        #expect(fresh.accessKeyID == "ASIAROLE")
        let request = try #require(transport.requests.first)
        #expect(request.url == "https://sts.us-west-2.amazonaws.com/")
        #expect(request.header("Authorization") == nil)
        #expect(request.formFields["WebIdentityToken"] == "jwt")
        #expect(request.formFields["Action"] == "AssumeRoleWithWebIdentity")
    }

    @Test func errorsNameTheCallAndTheCode() async {
        let denied = """
            <ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed</Message></Error></ErrorResponse>
            """
        let sts = STSClient(transport: FakeTransport(status: 403, body: denied), environment: [:], region: "us-east-1")
        let source = S3Credentials(accessKeyID: "AK", secretAccessKey: "SK")
        await #expect(
            throws: CredentialError(
                description: "STS AssumeRole at https://sts.us-east-1.amazonaws.com answered HTTP 403 AccessDenied: not allowed")
        ) {
            try await sts.assumeRole(roleARN: "r", sessionName: "s", externalID: nil, durationSeconds: nil, with: source)
        }
        let noExpiry = Self.answer.replacingOccurrences(of: "<Expiration>2026-11-30T12:00:00Z</Expiration>", with: "")
        let broken = STSClient(transport: FakeTransport(status: 200, body: noExpiry), environment: [:], region: "us-east-1")
        await #expect(throws: CredentialError.self) {
            try await broken.assumeRole(roleARN: "r", sessionName: "s", externalID: nil, durationSeconds: nil, with: source)
        }
    }
}

struct InstanceMetadataTests {
    static let document = #"{"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"imdssecret","Token":"imdstoken","Expiration":"2026-11-30T12:00:00Z"}"#

    @Test func tokenThenRoleThenCredentials() async throws {
        let transport = FakeTransport { request in
            let body: String
            switch (request.method, request.url) {
            case (.put, "http://127.0.0.1:5/latest/api/token"): body = "SESSION"
            case (.get, "http://127.0.0.1:5/latest/meta-data/iam/security-credentials/"): body = "my-role\n"
            case (.get, "http://127.0.0.1:5/latest/meta-data/iam/security-credentials/my-role"): body = Self.document
            default: return .success(HTTPResponse(status: 404, headers: [:], body: []))
            }
            return .success(HTTPResponse(status: 200, headers: [:], body: Array(body.utf8)))
        }
        let fresh = try await InstanceMetadataProvider(endpoint: "http://127.0.0.1:5", transport: transport).fetch()
        #expect(fresh.accessKeyID == "ASIAIMDS" && fresh.sessionToken == "imdstoken" && fresh.expiration == 1_796_040_000)
        let requests = transport.requests
        #expect(requests.count == 3)
        #expect(requests[0].header("X-aws-ec2-metadata-token-ttl-seconds") == "21600")
        #expect(requests.dropFirst().allSatisfy { $0.header("X-aws-ec2-metadata-token") == "SESSION" })
        #expect(requests.allSatisfy { $0.timeout == 1 })
    }

    @Test func unreachableServiceFailsOnceAndSaysSo() async {
        let transport = FakeTransport { _ in .failure(ClientError(kind: .timedOut, detail: "timed out after 1000 ms")) }
        await #expect(
            throws: CredentialError(
                description: "instance metadata (http://127.0.0.1:5): no answer for session token (timed out after 1000 ms)")
        ) {
            try await InstanceMetadataProvider(endpoint: "http://127.0.0.1:5", transport: transport).fetch()
        }
        #expect(transport.requests.count == 1)
    }

    @Test func noRoleIsExplained() async {
        let transport = FakeTransport { request in
            .success(HTTPResponse(status: 200, headers: [:], body: Array((request.method == .put ? "T" : "").utf8)))
        }
        await #expect(
            throws: CredentialError(
                description: "instance metadata (http://127.0.0.1:5): the instance has no IAM role (attach an instance profile)")
        ) {
            try await InstanceMetadataProvider(endpoint: "http://127.0.0.1:5", transport: transport).fetch()
        }
    }
}

struct ContainerCredentialTests {
    @Test func sendsTheTokenFromTheFileReadAtEachFetch() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "first-token\n".write(toFile: file, atomically: true, encoding: .utf8)
        let transport = FakeTransport(status: 200, body: InstanceMetadataTests.document)
        let provider = ContainerCredentialProvider(
            url: "http://127.0.0.1:7/creds", authorizationToken: "ignored", authorizationTokenFile: file, transport: transport)
        #expect(try await provider.fetch().accessKeyID == "ASIAIMDS")
        try "second-token".write(toFile: file, atomically: true, encoding: .utf8)
        _ = try await provider.fetch()
        #expect(transport.requests.map { $0.header("Authorization") } == ["first-token", "second-token"])
    }

    @Test func fullURIMustBeHTTPSOrLocal() throws {
        try ContainerCredentialProvider.validateFullURI("http://127.0.0.1:8080/creds")
        try ContainerCredentialProvider.validateFullURI("https://creds.example.com/x")
        try ContainerCredentialProvider.validateFullURI("http://169.254.170.23/v1/credentials")
        #expect(throws: CredentialError.self) { try ContainerCredentialProvider.validateFullURI("http://example.com/creds") }
    }

    @Test func errorStatusNamesTheEndpoint() async {
        let provider = ContainerCredentialProvider(
            url: "http://127.0.0.1:7/creds", authorizationToken: "t", authorizationTokenFile: nil,
            transport: FakeTransport(status: 401, body: "no"))
        await #expect(throws: CredentialError(description: "container credentials (http://127.0.0.1:7/creds) answered HTTP 401")) {
            try await provider.fetch()
        }
    }
}

struct CredentialProcessTests {
    @Test func parsesTheCommandsJSON() async throws {
        let json = #"{"Version": 1, "AccessKeyId": "AKP", "SecretAccessKey": "SKP", "SessionToken": "TKP", "Expiration": "2026-11-30T12:00:00Z"}"#
        let provider = CredentialProcessProvider(profile: "p", command: "printf '%s' '\(json)'")
        #expect(
            try await provider.fetch()
                == S3Credentials(accessKeyID: "AKP", secretAccessKey: "SKP", sessionToken: "TKP", expiration: 1_796_040_000))
        let forever = CredentialProcessProvider(
            profile: "p", command: #"echo '{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "S"}'"#)
        #expect(try await forever.fetch().expiration == nil)
    }

    @Test func failuresAreClearAndNeverQuoteTheOutput() async {
        func error(_ command: String, timeout: Double = 60) async -> String {
            do {
                _ = try await CredentialProcessProvider(profile: "p", command: command, timeout: timeout).fetch()
                return "fetched"
            } catch { return error.description }
        }
        #expect(await error("echo SECRETOUT; echo 'token expired, run login' >&2; exit 3")
            == "profile p (credential_process): the command exited with status 3: token expired, run login")
        #expect(await error("echo SECRETOUT") == "profile p (credential_process): the command did not print a JSON object")
        #expect(await error(#"echo '{"Version": 2, "AccessKeyId": "SECRETOUT", "SecretAccessKey": "S"}'"#)
            == #"profile p (credential_process): the command's JSON must have "Version": 1"#)
        #expect(await error(#"echo '{"Version": 1, "AccessKeyId": "SECRETOUT"}'"#)
            == "profile p (credential_process) answered without AccessKeyId and SecretAccessKey")
        #expect(await error("exec sleep 30", timeout: 0.5).hasPrefix("profile p (credential_process): the command was killed"))
    }
}

struct ExpiredCredentialRejectionTests {
    static func response(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [:], body: Array(body.utf8))
    }

    @Test func recognisesExpiredTokenAnswers() {
        for code in ["ExpiredToken", "TokenRefreshRequired", "InvalidToken"] {
            #expect(ServiceErrorMapping.rejectsExpiredCredentials(
                Self.response(400, "<Error><Code>\(code)</Code></Error>"), method: .get))
        }
        #expect(ServiceErrorMapping.rejectsExpiredCredentials(Self.response(400, ""), method: .head))
        for (status, body, method) in [
            (403, "<Error><Code>AccessDenied</Code></Error>", HTTPRequest.Method.get),
            (403, "<Error><Code>InvalidAccessKeyId</Code></Error>", .put),
            (400, "<Error><Code>RequestExpired</Code></Error>", .get),
            (403, "", .head), (404, "<Error><Code>NoSuchKey</Code></Error>", .get),
        ] {
            #expect(!ServiceErrorMapping.rejectsExpiredCredentials(Self.response(status, body), method: method))
        }
    }
}
