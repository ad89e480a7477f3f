// VolumeDirectory: what Remove leaves of STATE/volumes/NAME. The mountpoint goes; the write cache goes only when it
// holds no staged file (StagingArea's DIR/data/ID): uploads a mount could not finish stay there and resume when a
// volume of the same name and bucket is mounted again, and the log says so.
import Foundation
import Logging

enum VolumeDirectory {
    static func remove(_ layout: PluginLayout, _ name: String, logger: Logger) {
        let files = FileManager.default
        try? files.removeItem(atPath: layout.mountpoint(name))
        let cache = layout.cacheDirectory(name)
        // A staging directory holds its lock and journal always, and one file under data/ per upload owed.
        let staged = files.enumerator(atPath: cache)?.contains { entry in
            let path = entry as? String ?? ""
            let type = (try? files.attributesOfItem(atPath: cache + "/" + path))?[.type] as? FileAttributeType
            return path.split(separator: "/").dropLast().last == "data" && type == .typeRegular
        } ?? false
        if staged {
            logger.warning("kept the volume's write cache: it holds uploads not finished", metadata: ["volume": "\(name)", "cache": "\(cache)"])
        } else {
            try? files.removeItem(atPath: layout.volumeDirectory(name))
        }
    }
}
