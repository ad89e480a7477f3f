// Web identity (EKS IRSA and the like): an OIDC token in a file, exchanged at STS AssumeRoleWithWebIdentity for
// the role's temporary credentials. The file is read again at every fetch: the platform rotates the token in it.

import Foundation

struct WebIdentityProvider: CredentialProvider {
    let tokenFile: String
    let roleARN: String
    let sessionName: String
    let sts: STSClient

    var source: String { "web identity (role \(roleARN))" }
    var refreshable: Bool { true }

    func fetch() async throws(CredentialError) -> S3Credentials {
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw CredentialError(
                description: "\(source): cannot read the web identity token file \(tokenFile); check "
                    + "AWS_WEB_IDENTITY_TOKEN_FILE and its permissions")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw CredentialError(description: "\(source): the web identity token file \(tokenFile) is empty")
        }
        do {
            return try await sts.assumeRoleWithWebIdentity(roleARN: roleARN, sessionName: sessionName, token: token)
        } catch {
            throw CredentialError(description: "\(source): \(error.description)")
        }
    }
}
