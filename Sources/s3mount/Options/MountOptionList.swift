/// `-o opt,opt=value` as mount(8) and fstab pass options: each known option becomes its `--long-form`, so one
/// parser validates both spellings. Generic mount options that only mean something to mount(8) or systemd are
/// dropped; `ro`/`rw` map to --read-only or nothing.
enum MountOptionList {
    /// Options that mount(8), fstab or systemd may pass and that s3mount has no use for.
    static let ignored: Set<String> = [
        "rw", "defaults", "auto", "noauto", "user", "users", "nouser", "dev", "nodev", "suid", "nosuid", "exec",
        "noexec", "atime", "noatime", "relatime", "_netdev", "nofail", "async", "sync",
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
        if ignored.contains(key) || key.hasPrefix("x-") || key.hasPrefix("comment=") { return [] }
        let long = "--" + (key == "ro" ? "read-only" : key.replacingOccurrences(of: "_", with: "-"))
        return value.map { [long, $0] } ?? [long]
    }
}
