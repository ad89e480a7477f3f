// Container credentials (ECS task roles, EKS Pod Identity): GET AWS_CONTAINER_CREDENTIALS_FULL_URI, or
// http://169.254.170.2 + AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN (or the
// contents of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, read again at every fetch) as the Authorization header.
// As in the SDKs, a full URI must be https or point at a loopback address or the container hosts 169.254.170.2 /
// 169.254.170.23, so the token is never sent elsewhere in clear.

import Foundation

struct ContainerCredentialProvider: CredentialProvider {
    let url: String
    let authorizationToken: String?
    let authorizationTokenFile: String?
    let transport: any HTTPTransport

    var source: String { "container credentials (\(url))" }
    var refreshable: Bool { true }

    /// Checks that a full URI may carry the token; the error says which URIs are allowed.
    static func validateFullURI(_ text: String) throws(CredentialError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty
        else {
            throw CredentialError(description: "AWS_CONTAINER_CREDENTIALS_FULL_URI \"\(text)\" is not a URL")
        }
        let allowedHTTPHost =
            host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]" || host == "169.254.170.2"
            || host == "169.254.170.23" || host == "fd00:ec2::23" || host == "[fd00:ec2::23]"
        guard scheme == "https" || (scheme == "http" && allowedHTTPHost) else {
            throw CredentialError(
                description: "AWS_CONTAINER_CREDENTIALS_FULL_URI \"\(text)\" must be https, or http to a loopback "
                    + "address or 169.254.170.2/169.254.170.23")
        }
    }

    func fetch() async throws(CredentialError) -> S3Credentials {
        var headers: [String] = ["Accept: application/json"]
        if let token = try authorization() { headers.append("Authorization: \(token)") }
        let request = HTTPRequest(method: .get, url: url, headerLines: headers, timeout: 5)
        switch await transport.perform(request) {
        case .failure(let error):
            throw CredentialError(description: "\(source) failed: \(error.detail)")
        case .success(let response) where response.status != 200:
            throw CredentialError(description: "\(source) answered HTTP \(response.status)")
        case .success(let response):
            return try CredentialDocument.parse(response.body, source: source, tokenField: "Token", expirationRequired: false)
        }
    }

    private func authorization() throws(CredentialError) -> String? {
        guard let file = authorizationTokenFile else { return authorizationToken }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CredentialError(
                description: "\(source): cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file); check its permissions")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, !token.contains("\r"), !token.contains("\n") else {
            throw CredentialError(description: "\(source): AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file) holds no token")
        }
        return token
    }
}
