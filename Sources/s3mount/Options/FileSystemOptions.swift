import ArgumentParser
import Glibc

/// What the mounted tree looks like to processes.
struct FileSystemOptions: ParsableArguments {
    @Flag(help: "Mount read-only (writes get EROFS; opening and closing a file then costs no request).")
    var readOnly = false

    @Flag(help: "Do not let programs on the mount be executed (noexec).")
    var noExec = false

    @Option(help: "Owner of every file and directory (default: the user running s3mount).")
    var uid: UInt32?

    @Option(help: "Group of every file and directory (default: the group running s3mount).")
    var gid: UInt32?

    @Option(help: "Permission bits of files, in octal (default 0644).", transform: FileMode.parse)
    var fileMode = FileMode(bits: 0o644)

    @Option(help: "Permission bits of directories, in octal (default 0755).", transform: FileMode.parse)
    var dirMode = FileMode(bits: 0o755)

    @Flag(help: "Let users other than the one who mounted access the mount (needs user_allow_other in /etc/fuse.conf for non-root).")
    var allowOther = false

    @Flag(help: "Mount on a directory that is not empty (its files are hidden while mounted). -o nonempty.")
    var nonempty = false

    @Option(help: "Seconds that names and attributes learnt from S3 are trusted before asking again.")
    var metadataTTL: Double = 1

    @Option(help: """
        Seconds the kernel may keep the names of files in a listed directory without asking; s3mount lists such a \
        directory again every --metadata-ttl and takes back each name whose object changed or went. 0: names last \
        --metadata-ttl.
        """)
    var metadataLease: Double = 30

    @Option(help: "Names kept in memory beyond those the kernel holds (listed but not looked up); the oldest leave first.")
    var maxCachedNames = 100_000

    mutating func validate() throws {
        guard maxCachedNames >= 1_000 else {
            throw ValidationError("--max-cached-names must be at least 1000, got \(maxCachedNames)")
        }
        guard metadataTTL >= 0, metadataTTL <= 86_400 * 365 else {
            throw ValidationError("--metadata-ttl must be between 0 and 31536000 seconds, got \(metadataTTL)")
        }
        guard metadataLease >= 0, metadataLease <= 86_400 * 365 else {
            throw ValidationError("--metadata-lease must be between 0 and 31536000 seconds, got \(metadataLease)")
        }
    }

    var effectiveUID: UInt32 { uid ?? getuid() }
    var effectiveGID: UInt32 { gid ?? getgid() }
}
