import Foundation
import Logging

/// The kernel reads ahead at most the backing device's read_ahead_kb (128 KiB by default for FUSE), whatever
/// the filesystem asks in init; raising it after mounting lets sequential readers send 1 MiB requests, several
/// at once. Needs root; without it the mount still works, with smaller requests.
enum ReadAhead {
    static let kilobytes = 4096

    static func raise(mountpoint: String, logger: Logger) {
        guard let device = MountpointCheck.mountDevice(at: mountpoint) else { return }
        let path = "/sys/class/bdi/\(device)/read_ahead_kb"
        do {
            try "\(kilobytes)\n".write(toFile: path, atomically: false, encoding: .utf8)
        } catch {
            logger.info("could not raise the kernel read-ahead", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
