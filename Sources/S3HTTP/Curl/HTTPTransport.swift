// HTTPTransport: what the credential sources need of the HTTP layer, one request at a time. The TransferEngine is
// the real one (libcurl, the same funnel as S3 traffic); unit tests pass fakes that answer from a table.

import ObjectStore

protocol HTTPTransport: Sendable {
    func perform(_ request: HTTPRequest) async -> Result<HTTPResponse, ClientError>
}

extension TransferEngine: HTTPTransport {
    /// An engine for credential services (STS, container endpoint, instance metadata): few connections, a short
    /// connect timeout, certificates checked against `caBundle` (AWS_CA_BUNDLE) or the system store.
    static func forCredentialServices(caBundle: String?) throws(ClientError) -> TransferEngine {
        try TransferEngine(
            options: TransferOptions(
                connectTimeout: 2, lowSpeedLimit: 1, lowSpeedTime: 10, maxConnections: 2, tlsVerify: true,
                caBundle: caBundle))
    }
}
