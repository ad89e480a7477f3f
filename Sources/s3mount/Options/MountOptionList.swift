/// `-o opt,opt=value` as mount(8), mount.fuse3 and fstab pass options: each s3mount option becomes its
/// `--long-form`, so one parser validates both spellings (an unknown one fails there, by name). mount(8)'s own
/// options are handled here: `ro` is --read-only and `noexec` --no-exec; `nodev`/`nosuid` are what every s3mount
/// mount is anyway, so they and `dev`/`suid` (mount.fuse3 adds these for root) change nothing; the rest only mean
/// something to mount(8), systemd or other filesystems and are dropped.
enum MountOptionList {
    /// Options with a meaning of their own here.
    static let translated: [String: String] = ["ro": "--read-only", "noexec": "--no-exec"]

    /// Options that mount(8), fstab or systemd may pass and that s3mount has no use for.
    static let ignored: Set<String> = [
        "rw", "defaults", "auto", "noauto", "user", "users", "nouser", "owner", "group", "_netdev", "nofail",
        "dev", "nodev", "suid", "nosuid", "exec", "async", "sync", "dirsync",
        "atime", "noatime", "relatime", "norelatime", "strictatime", "nostrictatime", "diratime", "nodiratime",
        "lazytime", "nolazytime", "comment",
    ]

    /// `arguments` with every `-o LIST` (or `-oLIST`) replaced by long options.
    static func expand(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "-o", index < arguments.endIndex {
                result += longOptions(arguments[index])
                index += 1
            } else if argument.hasPrefix("-o"), argument.count > 2, !argument.hasPrefix("--") {
                result += longOptions(String(argument.dropFirst(2)))
            } else {
                result.append(argument)
            }
        }
        return result
    }

    static func longOptions(_ list: String) -> [String] {
        list.split(separator: ",").flatMap { item -> [String] in
            let parts = item.split(separator: "=", maxSplits: 1)
            return longOption(String(parts[0]), value: parts.count > 1 ? String(parts[1]) : nil)
        }
    }

    /// One option `key[=value]` as long options; [] for one that only mount(8) or systemd uses.
    static func longOption(_ key: String, value: String?) -> [String] {
        if ignored.contains(key) || key.hasPrefix("x-") { return [] }
        let long = translated[key] ?? "--" + key.replacingOccurrences(of: "_", with: "-")
        return value.map { [long, $0] } ?? [long]
    }
}
