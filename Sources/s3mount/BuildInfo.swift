import CSystem

/// What `s3mount --version` prints: "0.1.0 (commit abc1234)". `version` is the one place the release number is
/// written; `make deb` names the package after what the built binary prints. The commit comes from the build
/// (CSystem's build_info.c; "unknown" for a plain `swift build`).
enum BuildInfo {
    static let version = "0.1.0"

    static var commit: String { unsafe String(cString: s3m_build_commit()) }

    static var versionLine: String { "\(version) (commit \(commit))" }
}
