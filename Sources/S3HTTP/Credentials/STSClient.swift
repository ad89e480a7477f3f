// STSClient: the two STS calls the chain needs, AssumeRole (SigV4-signed, service "sts", with the source
// profile's credentials) and AssumeRoleWithWebIdentity (unsigned: the web identity token is the proof). Both are
// form-encoded POSTs of the Query API; the XML answer holds <Credentials> with an <Expiration>.
//
// Endpoint, as the SDKs resolve it: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the regional endpoint
// https://sts.REGION.amazonaws.com (sts_regional_endpoints = "regional", the default of every SDK major version
// since 2022), REGION being the mount's (us-east-1 when none is set).

import Foundation
import ObjectStore

struct STSClient: Sendable {
    let transport: any HTTPTransport
    /// "https://sts.eu-west-1.amazonaws.com", or a custom endpoint; no path.
    let endpoint: String
    /// The region requests are signed for.
    let region: String

    init(transport: any HTTPTransport, environment: [String: String], region: String?) {
        self.transport = transport
        let region = region ?? "us-east-1"
        self.region = region
        let configured = environment["AWS_ENDPOINT_URL_STS"] ?? environment["AWS_ENDPOINT_URL"]
        endpoint = configured.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? "https://sts.\(region).amazonaws.com"
    }

    /// AssumeRole `roleARN` with `credentials` (the source profile's).
    func assumeRole(
        roleARN: String, sessionName: String, externalID: String?, durationSeconds: Int?, with credentials: S3Credentials
    ) async throws(CredentialError) -> S3Credentials {
        var parameters = [("RoleArn", roleARN), ("RoleSessionName", sessionName)]
        if let externalID { parameters.append(("ExternalId", externalID)) }
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        return try await call("AssumeRole", parameters, signedWith: credentials)
    }

    /// AssumeRoleWithWebIdentity `roleARN` with the OIDC `token` (read from the token file by the caller).
    func assumeRoleWithWebIdentity(roleARN: String, sessionName: String, token: String) async throws(CredentialError)
        -> S3Credentials
    {
        try await call(
            "AssumeRoleWithWebIdentity",
            [("RoleArn", roleARN), ("RoleSessionName", sessionName), ("WebIdentityToken", token)], signedWith: nil)
    }

    private func call(_ action: String, _ parameters: [(String, String)], signedWith credentials: S3Credentials?)
        async throws(CredentialError) -> S3Credentials
    {
        let what = "STS \(action) at \(endpoint)"
        let request = try makeRequest(action, parameters, signedWith: credentials, now: Date())
        let response: HTTPResponse
        switch await transport.perform(request) {
        case .success(let answer): response = answer
        case .failure(let error): throw CredentialError(description: "\(what) failed: \(error.detail)")
        }
        guard response.status == 200 else {
            throw CredentialError(description: "\(what) answered \(Self.errorSummary(response))")
        }
        return try Self.parseCredentials(response.body, action: action, what: what)
    }

    func makeRequest(_ action: String, _ parameters: [(String, String)], signedWith credentials: S3Credentials?, now: Date)
        throws(CredentialError) -> HTTPRequest
    {
        guard let components = URLComponents(string: endpoint), let host = components.host, !host.isEmpty,
            components.scheme == "https" || components.scheme == "http"
        else {
            throw CredentialError(description: "STS endpoint \"\(endpoint)\" is not an http(s) URL; fix AWS_ENDPOINT_URL_STS")
        }
        let hostHeader = components.port.map { "\(host):\($0)" } ?? host
        let form = ([("Action", action), ("Version", "2011-06-15")] + parameters)
            .map { "\(URIEncoding.encode($0.0))=\(URIEncoding.encode($0.1))" }.joined(separator: "&")
        let body = Array(form.utf8)
        let contentType = "application/x-www-form-urlencoded; charset=utf-8"
        var headers: [(name: String, value: String)] = [("host", hostHeader), ("content-type", contentType)]
        var unsigned: [String] = []
        if let credentials {
            let amzDate = Timestamps.amzDate(epochSeconds: Int(now.timeIntervalSince1970))
            headers.append(("x-amz-date", amzDate))
            if let token = credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
            let signer = SigV4Signer(credentials: credentials, region: region, service: "sts")
            let signable = SignableRequest(
                method: "POST", path: "/", query: [], headers: headers, payloadHash: Digest.hex(Digest.sha256(body)))
            unsigned.append("Authorization: \(signer.authorization(for: signable, amzDate: amzDate))")
        }
        return HTTPRequest(
            method: .post, url: endpoint + "/", headerLines: headers.map { "\($0.name): \($0.value)" } + unsigned,
            uploadBody: .bytes(body), timeout: 10)
    }

    /// The <Credentials> of an `action` answer ("AssumeRoleResponse" → "AssumeRoleResult" → "Credentials").
    static func parseCredentials(_ body: [UInt8], action: String, what: String) throws(CredentialError) -> S3Credentials {
        let root: XMLElementNode
        do {
            root = try XMLTree.parse(body, what: what)
        } catch {
            throw CredentialError(description: "\(what) answered XML that does not parse: \(error.detail)")
        }
        guard root.name == "\(action)Response", let result = root.child("\(action)Result"),
            let credentials = result.child("Credentials"),
            let accessKeyID = credentials.childText("AccessKeyId"), !accessKeyID.isEmpty,
            let secret = credentials.childText("SecretAccessKey"), !secret.isEmpty,
            let token = credentials.childText("SessionToken"), !token.isEmpty
        else {
            throw CredentialError(description: "\(what) answered without \(action)Result/Credentials and its keys")
        }
        guard let expiration = credentials.childText("Expiration").flatMap(Timestamps.parseISO8601) else {
            throw CredentialError(description: "\(what) answered Credentials without a valid Expiration")
        }
        return S3Credentials(accessKeyID: accessKeyID, secretAccessKey: secret, sessionToken: token, expiration: expiration)
    }

    /// "HTTP 403 AccessDenied: message" from an STS <ErrorResponse>, or just the status.
    static func errorSummary(_ response: HTTPResponse) -> String {
        let error = (try? XMLTree.parse(response.body, what: "STS error"))?.child("Error")
        guard let code = error?.childText("Code"), !code.isEmpty else { return "HTTP \(response.status)" }
        let message = error?.childText("Message") ?? ""
        return "HTTP \(response.status) \(code)" + (message.isEmpty ? "" : ": \(message)")
    }
}
