import Glibc

/// Where the plugin keeps things under --state-dir: volumes.json (the volume list), and per volume
/// volumes/NAME/_data (its mountpoint, as Docker's own local driver lays out) and volumes/NAME/cache (the
/// mount's write staging, unless the volume names a cache-dir).
struct PluginLayout: Sendable {
    let stateDirectory: String

    var catalogFile: String { stateDirectory + "/volumes.json" }
    func volumeDirectory(_ name: String) -> String { stateDirectory + "/volumes/" + name }
    func mountpoint(_ name: String) -> String { volumeDirectory(name) + "/_data" }
    func cacheDirectory(_ name: String) -> String { volumeDirectory(name) + "/cache" }

    /// `mkdir -p`, each directory it creates with `mode`; a failure names the directory and the reason.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(PluginError) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            partial += "/" + component
            if unsafe mkdir(partial, mode) != 0 {
                let code = errno
                if code != EEXIST { throw PluginError("cannot create \(partial): \(MountpointCheck.describe(code))") }
            }
        }
    }
}
