// The one line for a chain that found no credentials: every source tried (the last one with why it failed),
// then how to add credentials.

/// The sources the chain found unconfigured, and where the operator would add keys.
public struct NoCredentialsFound: Equatable, Sendable {
    var tried: [String]
    var profile: String
    var credentialsPath: String

    /// The error once `last` (a source with its failure) was tried too.
    func error(after last: String) -> CredentialError {
        CredentialError(
            description: "no AWS credentials found (tried \((tried + [last]).joined(separator: ", "))): set "
                + "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add aws_access_key_id and aws_secret_access_key "
                + "(or role_arn, or credential_process) to [\(profile)] in \(credentialsPath), or use "
                + "--no-sign-request for a public bucket")
    }
}
