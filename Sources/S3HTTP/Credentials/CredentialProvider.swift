// Credential sources. Each type of CredentialProvider fetches credentials from one place (the environment, a
// profile's keys, STS, a process, the container endpoint, instance metadata); CredentialChain picks the one that
// is configured, and RefreshingCredentials keeps its current answer and asks again before that expires. A
// provider's `source` and its errors are safe to log: they name files, roles and URLs, never a key or token.

/// One place credentials come from.
public protocol CredentialProvider: Sendable {
    /// Where the credentials come from, safe to log: "environment", "web identity (role arn:aws:iam::1:role/r)".
    var source: String { get }
    /// Whether asking again can give other credentials (false for keys written in the environment or a file).
    var refreshable: Bool { get }
    /// Fetches credentials now; the error names this source and what failed.
    func fetch() async throws(CredentialError) -> S3Credentials
}

/// Keys given once (environment variables, a profile's aws_access_key_id): the same answer every time.
struct FixedCredentials: CredentialProvider {
    let credentials: S3Credentials
    let source: String

    var refreshable: Bool { false }

    func fetch() async throws(CredentialError) -> S3Credentials { credentials }
}
