// EC2 instance metadata (IMDSv2): PUT /latest/api/token for a session token, then GET
// /latest/meta-data/iam/security-credentials/ (the role name) and …/ROLE (the credentials JSON), each with the
// token. The endpoint is AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254. Every call has a 1 s
// bound and is tried once, as the SDKs do, so a machine that is not on EC2 fails fast.

struct InstanceMetadataProvider: CredentialProvider {
    /// "http://169.254.169.254", without a trailing slash.
    let endpoint: String
    let transport: any HTTPTransport
    var timeout: Double = 1

    var source: String { "instance metadata (\(endpoint))" }
    var refreshable: Bool { true }

    func fetch() async throws(CredentialError) -> S3Credentials {
        let session = try await call(
            .put, "/latest/api/token", headers: ["X-aws-ec2-metadata-token-ttl-seconds: 21600"], what: "session token")
        let token = String(decoding: session, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        let credentialsPath = "/latest/meta-data/iam/security-credentials/"
        let tokenHeader = "X-aws-ec2-metadata-token: \(token)"
        let roles = try await call(.get, credentialsPath, headers: [tokenHeader], what: "the instance's role")
        guard let role = String(decoding: roles, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init),
            !role.isEmpty, !role.contains("/")
        else {
            throw CredentialError(description: "\(source): the instance has no IAM role (attach an instance profile)")
        }
        let document = try await call(.get, credentialsPath + role, headers: [tokenHeader], what: "role \(role)")
        return try CredentialDocument.parse(
            document, source: "\(source) role \(role)", tokenField: "Token", expirationRequired: true)
    }

    private func call(_ method: HTTPRequest.Method, _ path: String, headers: [String], what: String)
        async throws(CredentialError) -> [UInt8]
    {
        let request = HTTPRequest(method: method, url: endpoint + path, headerLines: headers, timeout: timeout)
        switch await transport.perform(request) {
        case .failure(let error):
            throw CredentialError(description: "\(source): no answer for \(what) (\(error.detail))")
        case .success(let response) where response.status != 200:
            throw CredentialError(description: "\(source): HTTP \(response.status) for \(what)")
        case .success(let response):
            return response.body
        }
    }
}
