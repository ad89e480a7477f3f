// libcurl result codes → ClientError kinds.

import CShims
import ObjectStore

enum CurlErrorMapping {
    /// The ClientError for a failed transfer. `bodyStarted` tells a cut-off body (truncated) from a connection
    /// that died before any body byte arrived (reset).
    static func clientError(for code: CURLcode, detail: String, bodyStarted: Bool) -> ClientError {
        ClientError(kind: kind(for: code, bodyStarted: bodyStarted), detail: "\(detail) (curl \(code.rawValue))")
    }

    static func kind(for code: CURLcode, bodyStarted: Bool) -> ClientError.Kind {
        switch code {
        case CURLE_COULDNT_CONNECT: .connectionRefused
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .hostNotFound
        case CURLE_OPERATION_TIMEDOUT: .timedOut
        case CURLE_PARTIAL_FILE: .truncatedBody
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING: bodyStarted ? .truncatedBody : .connectionReset
        // Verification failures are told apart from other handshake failures: they are the operator's to fix
        // (a CA bundle, a host name), and no retry changes them.
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR,
            CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE:
            .tlsCertificate
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_SHUTDOWN_FAILED,
            CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_USE_SSL_FAILED:
            .tls
        case CURLE_WEIRD_SERVER_REPLY, CURLE_BAD_CONTENT_ENCODING: .malformedResponse
        default: .other
        }
    }
}
