// PayloadHash: the x-amz-content-sha256 value of a request with a body.
//
// Over https the payload is left unsigned (UNSIGNED-PAYLOAD: TLS already protects it, and hashing a 5 GiB part
// would read it twice). Over http, and for signed requests only, the body is hashed: a file range is read once,
// 1 MiB at a time, through a streaming SHA-256 (never held whole), on a Dispatch thread so the blocking reads and
// the hashing stay off Swift's cooperative pool.

import CShims
import Dispatch
import ObjectStore

enum PayloadHash {
    static let unsigned = "UNSIGNED-PAYLOAD"
    static let chunkSize = 1 << 20

    /// The header value for `body` sent over `scheme`, signed or not.
    static func value(for body: UploadBody, scheme: String, signed: Bool) async throws(ClientError) -> String {
        guard signed, scheme != "https" else { return unsigned }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<String, ClientError>, Never>) in
            DispatchQueue.global(qos: .utility).async {
                do throws(ClientError) {
                    continuation.resume(returning: .success(try sha256Hex(of: body)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Hex SHA-256 of the whole body, read in `chunkSize` pieces.
    static func sha256Hex(of body: UploadBody) throws(ClientError) -> String {
        let reader = try UploadBodyReader(body)
        guard let context = unsafe EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new failed") }
        // SAFETY: the context was just allocated and is freed exactly once, here.
        defer { unsafe EVP_MD_CTX_free(context) }
        // SAFETY: a live context and libcrypto's static SHA-256 method.
        precondition(unsafe EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "EVP_DigestInit_ex failed")
        var chunk = [UInt8](repeating: 0, count: Int(min(UInt64(chunkSize), max(reader.length, 1))))
        while true {
            // SAFETY: the reader writes at most `chunk.count` bytes into the chunk's own storage.
            let count = unsafe chunk.withUnsafeMutableBytes { unsafe reader.read(into: $0) }
            guard let count else { throw reader.failure ?? ClientError(kind: .other, detail: "upload body unreadable") }
            if count == 0 { break }
            // SAFETY: the first `count` bytes of the chunk were just written.
            let ok = unsafe chunk.withUnsafeBytes { unsafe EVP_DigestUpdate(context, $0.baseAddress, count) }
            precondition(ok == 1, "EVP_DigestUpdate failed")
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // SAFETY: the output holds EVP_MAX_MD_SIZE bytes; libcrypto writes at most that and reports the length.
        let ok = unsafe digest.withUnsafeMutableBufferPointer { unsafe EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        precondition(ok == 1, "EVP_DigestFinal_ex failed")
        return Digest.hex(Array(digest.prefix(Int(length))))
    }
}
