// ManifestFile: reads --prefetch-manifest at mount time into paths relative to the mount's root.
//
// One path per line, in the order the job will read the files: relative to the mount ("train/c01/0001.jpg",
// "./train/…"), or absolute under the mountpoint ("/data/train/…" for a mount on /data). Blank lines and lines
// starting with "#" are skipped. A line that cannot name a file under the mount fails the mount with its number.
import Foundation

enum ManifestFile {
    static let maxEntries = 10_000_000

    static func read(_ path: String, mountpoint: String) throws(MountFailure) -> [String] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw MountFailure("cannot read --prefetch-manifest \(path): \(error.localizedDescription); give a readable UTF-8 file of paths, one per line")
        }
        var paths: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let entry = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if entry.isEmpty || entry.hasPrefix("#") { continue }
            guard let relative = relativePath(entry, mountpoint: mountpoint) else {
                throw MountFailure(
                    "--prefetch-manifest \(path), line \(index + 1): '\(entry)' is not a file under the mount; give paths relative to the mount or absolute under \(mountpoint)")
            }
            paths.append(relative)
            guard paths.count <= maxEntries else {
                throw MountFailure("--prefetch-manifest \(path) lists more than \(maxEntries) paths; split the job's manifest")
            }
        }
        guard !paths.isEmpty else { throw MountFailure("--prefetch-manifest \(path) lists no paths") }
        return paths
    }

    /// The path relative to the mount's root, or nil when the entry names nothing under it.
    static func relativePath(_ entry: String, mountpoint: String) -> String? {
        var path = Substring(entry)
        if path.hasPrefix("/") {
            let root = mountpoint.hasSuffix("/") ? mountpoint : mountpoint + "/"
            guard path.hasPrefix(root) else { return nil }
            path = path.dropFirst(root.count)
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        guard !components.isEmpty, !components.contains("..") else { return nil }
        return components.joined(separator: "/")
    }
}
