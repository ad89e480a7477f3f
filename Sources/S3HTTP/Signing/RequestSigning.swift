// RequestSigning: the SigV4 signer for the credentials in force. A SigV4Signer is bound to one set of credentials
// and caches its signing key per day, so keeping the signer of the credentials last seen caches the key per
// (secret, day, region); a refresh brings new credentials and so a new signer.

import Synchronization

final class RequestSigning: Sendable {
    let credentials: RefreshingCredentials
    let region: String
    private let last = Mutex<SigV4Signer?>(nil)

    init(credentials: RefreshingCredentials, region: String) {
        self.credentials = credentials
        self.region = region
    }

    /// The signer for the current credentials.
    func signer() async throws(CredentialError) -> SigV4Signer {
        signer(for: try await credentials.current())
    }

    /// The signer for credentials fetched after the server rejected those of `rejected` as expired.
    func signer(afterRejecting rejected: SigV4Signer) async throws(CredentialError) -> SigV4Signer {
        signer(for: try await credentials.refreshed(after: rejected.credentials))
    }

    private func signer(for credentials: S3Credentials) -> SigV4Signer {
        last.withLock { last in
            if let signer = last, signer.credentials == credentials { return signer }
            let signer = SigV4Signer(credentials: credentials, region: region)
            last = signer
            return signer
        }
    }
}
