// A profile with role_arn + source_profile: the source profile's credentials (keys, a process, or another role)
// sign an STS AssumeRole call for the role's temporary credentials. Each fetch asks the source again, so a chain
// of roles refreshes from its root.

struct AssumeRoleProvider: CredentialProvider {
    let profile: String
    let roleARN: String
    let sessionName: String
    let externalID: String?
    let durationSeconds: Int?
    let sourceProvider: any CredentialProvider
    let sts: STSClient

    var source: String { "profile \(profile) (role \(roleARN) from \(sourceProvider.source))" }
    var refreshable: Bool { true }

    func fetch() async throws(CredentialError) -> S3Credentials {
        let sourceCredentials = try await sourceProvider.fetch()
        do {
            return try await sts.assumeRole(
                roleARN: roleARN, sessionName: sessionName, externalID: externalID, durationSeconds: durationSeconds,
                with: sourceCredentials)
        } catch {
            throw CredentialError(description: "profile \(profile) (role \(roleARN)): \(error.description)")
        }
    }
}
