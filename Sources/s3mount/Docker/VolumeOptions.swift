// VolumeOptions: a volume's Docker options (`docker volume create -o KEY[=VALUE] …`) as the s3mount command line
// that mounts it. bucket (required) and prefix make BUCKET[:PREFIX]; endpoints is endpoint; every other key is the
// s3mount option of that name, spelled as in an fstab -o list (`ro`, `memory_limit=4G` or `memory-limit=4G`). A flag is
// given bare (`-o ro`, which Docker passes with an empty value) or =true; =false leaves it off. The command line
// is checked by s3mount's own argument parser, at Create and again at Mount (the state file may have been
// edited), so an option s3mount would refuse is refused here with the parser's own message.
//
// Options are stored in the state file and shown by `docker volume inspect`, so keys that look like credentials
// are refused: credentials come from the plugin's environment or a profile (profile=NAME).
import Foundation

enum VolumeOptions {
    /// Keys the plugin itself decides: the daemon must detach, and must not print help instead of mounting.
    static let managed: Set<String> = ["foreground", "f", "help", "h", "version"]
    static let credentialWords = ["secret", "token", "password", "access-key", "accesskey", "credential"]

    /// `BUCKET[:PREFIX] MOUNTPOINT --option …` for a volume, checked by the parser.
    static func command(_ options: [String: String], mountpoint: String, cacheDirectory: String) throws(PluginError)
        -> [String]
    {
        guard let bucket = options["bucket"], !bucket.isEmpty else {
            throw PluginError("option bucket is missing: give -o bucket=NAME")
        }
        var arguments = [options["prefix"].map { "\(bucket):\($0)" } ?? bucket, mountpoint]
        for (key, value) in options.sorted(by: { $0.key < $1.key }) where key != "bucket" && key != "prefix" {
            let dashed = key.lowercased().replacingOccurrences(of: "_", with: "-")
            if credentialWords.contains(where: { dashed.contains($0) }) {
                throw PluginError(
                    "option \(key) looks like a credential, and volume options are stored and shown in clear: give the plugin AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in its environment, or -o profile=NAME")
            }
            if managed.contains(dashed) { throw PluginError("option \(key) is not for volumes: the plugin runs the mount itself") }
            switch value.lowercased() {
            case "false": continue
            case "", "true": arguments += MountOptionList.longOption(key == "endpoints" ? "endpoint" : key, value: nil)
            default: arguments += MountOptionList.longOption(key == "endpoints" ? "endpoint" : key, value: value)
            }
        }
        if options["cache-dir"] == nil, options["cache_dir"] == nil { arguments += ["--cache-dir", cacheDirectory] }
        do {
            _ = try S3Mount.parseAsRoot(arguments)
        } catch {
            throw PluginError("bad volume options: \(S3MountMain.errorLine(for: error)) (options are s3mount's, without the dashes: see s3mount --help)")
        }
        return arguments
    }
}
