// FetchClaim: single-flight across the processes that share a cache directory. Before its GET, a process takes an
// exclusive lock on one byte of DIR/claims — the byte at the block's hash (62 bits of it: two blocks sharing one
// are as likely as a hash collision) — as an open-file-description lock (F_OFD_SETLK: in the kernel only, no file
// made or removed per block; creating and deleting a lock file per block cost ext4 a quarter of the daemon's CPU
// in inode allocation). Another process that wants the same block while the claim is held sees it busy, waits for
// it to end and reads the block from the tier instead of fetching it again. The kernel drops a killed holder's
// locks, so a claim never outlives its process.
import CSystem
#if canImport(Glibc)
import Glibc
#endif

/// The right to fetch one block that no other process sharing the tier is fetching; it ends when released.
final class FetchClaim: Sendable {
    enum Outcome: Sendable {
        /// This process fetches the block; end the claim once it is stored or its fetch failed.
        case claimed(FetchClaim)
        /// Another process is fetching the block right now.
        case busy
        /// No claim can be made here (the claims file is unusable): fetch without one.
        case unavailable
    }

    private let claims: ClaimsFile
    private let offset: off_t

    private init(claims: ClaimsFile, offset: off_t) {
        self.claims = claims
        self.offset = offset
    }

    /// Tries to claim the block whose hash name is `hashName` (hex), without waiting.
    static func take(_ hashName: String, in claims: ClaimsFile) -> Outcome {
        let hash = UInt64(hashName.prefix(16), radix: 16) ?? 0
        let offset = off_t(hash & (1 << 62 - 1))
        switch s3m_lock_byte(claims.descriptor, offset, 1) {
        case 0: return .claimed(FetchClaim(claims: claims, offset: offset))
        case -EAGAIN: return .busy
        default: return .unavailable
        }
    }

    deinit {
        _ = s3m_lock_byte(claims.descriptor, offset, 0)
    }
}

/// DIR/claims, open for the life of the tier: its bytes are the locks of blocks being fetched (it stays empty).
final class ClaimsFile: Sendable {
    let descriptor: Int32

    /// Opens (creating) the file; nil when it cannot be.
    init?(directory: String) {
        descriptor = unsafe open(directory + "/claims", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
    }

    deinit {
        close(descriptor)
    }
}
