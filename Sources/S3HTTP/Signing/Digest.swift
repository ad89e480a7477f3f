// SHA-256 and HMAC-SHA256 from libcrypto, plus hex encoding, for SigV4.

import CShims

enum Digest {
    /// SHA-256 of the empty string: the payload hash of every GET, HEAD and LIST.
    static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    static func sha256<Bytes: Collection<UInt8>>(_ data: Bytes) -> [UInt8] {
        let input = Array(data)
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // SAFETY: the input is read for `input.count` bytes; the output holds EVP_MAX_MD_SIZE bytes, and libcrypto
        // writes at most that many and reports the real length.
        let ok = unsafe input.withUnsafeBytes { inBytes in
            unsafe output.withUnsafeMutableBufferPointer { out in
                unsafe EVP_Digest(inBytes.baseAddress, inBytes.count, out.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        precondition(ok == 1, "EVP_Digest(SHA-256) failed")
        return Array(output.prefix(Int(length)))
    }

    static func hmacSHA256<Bytes: Collection<UInt8>>(key: [UInt8], _ data: Bytes) -> [UInt8] {
        let input = Array(data)
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // SAFETY: key and input are read within their counts; the output holds EVP_MAX_MD_SIZE bytes.
        let result = unsafe key.withUnsafeBytes { keyBytes in
            unsafe input.withUnsafeBytes { inBytes in
                unsafe output.withUnsafeMutableBufferPointer { out in
                    unsafe HMAC(
                        EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                        inBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), inBytes.count,
                        out.baseAddress, &length)
                }
            }
        }
        precondition(unsafe result != nil, "HMAC(SHA-256) failed")
        return Array(output.prefix(Int(length)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func sha256Hex(_ string: String) -> String { hex(sha256(Array(string.utf8))) }
}
