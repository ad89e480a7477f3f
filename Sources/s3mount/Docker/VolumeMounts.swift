// VolumeMounts: which containers use each mounted volume. The first Mount of a volume starts its daemon on
// PluginLayout.mountpoint; later ones add their container ID and get the same mountpoint; an Unmount takes its ID
// away and the last one unmounts. The counts live in memory only: a volume found mounted that this process did not
// mount (the plugin restarted under running containers) is "inherited": Mount reuses it, and since the containers
// that used it are unknown, it stays mounted after its known users leave, until Remove (dockerd removes a volume
// only when no container refers to it). A mount whose daemon died is unmounted and mounted again.
import Foundation
import Glibc
import Logging

final class VolumeMounts {
    private struct Users {
        var containers: Set<String> = []
        var inherited = false
    }

    let layout: PluginLayout
    private let logger: Logger
    private var users: [String: Users] = [:]

    init(layout: PluginLayout, logger: Logger) {
        self.layout = layout
        self.logger = logger
    }

    /// Mounts `name` for container `id` if it is not mounted yet; its mountpoint.
    func mount(_ name: String, id: String, options: [String: String]) throws(PluginError) -> String {
        let mountpoint = layout.mountpoint(name)
        adoptOrClean(name)
        if users[name] == nil {
            let command = try VolumeOptions.command(options, mountpoint: mountpoint, cacheDirectory: layout.cacheDirectory(name))
            do {
                try PluginLayout.makeDirectories(mountpoint)
                try MountProcess.mount(command)
            } catch {
                throw PluginError("cannot mount volume \(name): \(error)")
            }
            logger.notice("mounted volume", metadata: ["volume": "\(name)", "mountpoint": "\(mountpoint)"])
            users[name] = Users()
        }
        users[name]?.containers.insert(id)
        return mountpoint
    }

    /// Container `id` no longer uses `name`; the last known user unmounts it (unless inherited).
    func unmount(_ name: String, id: String) throws(PluginError) {
        adoptOrClean(name)
        guard var current = users[name] else { throw PluginError("volume \(name) is not mounted") }
        guard current.containers.remove(id) != nil || current.inherited else {
            throw PluginError("volume \(name) is not mounted for container \(id)")
        }
        if current.containers.isEmpty, !current.inherited {
            try MountProcess.unmount(layout.mountpoint(name))
            logger.notice("unmounted volume", metadata: ["volume": "\(name)"])
            users[name] = nil
        } else {
            users[name] = current
        }
    }

    /// Before Remove: fails while a known container uses `name`; unmounts an inherited mount.
    func release(_ name: String) throws(PluginError) {
        adoptOrClean(name)
        guard let current = users[name] else { return }
        guard current.containers.isEmpty else {
            throw PluginError(
                "volume \(name) is mounted for \(current.containers.count) container(s) (\(current.containers.sorted().joined(separator: ", "))): stop them first")
        }
        try MountProcess.unmount(layout.mountpoint(name))
        users[name] = nil
    }

    /// The mountpoint of `name` while it is mounted.
    func mountpoint(of name: String) -> String? {
        adoptOrClean(name)
        return users[name] == nil ? nil : layout.mountpoint(name)
    }

    func containers(of name: String) -> Int { users[name]?.containers.count ?? 0 }

    /// Reconciles what is counted with what is mounted: a live s3mount mount nobody counted is inherited; a
    /// counted volume whose mount is gone (unmounted by hand, daemon killed) is forgotten, and a dead one cleaned up.
    private func adoptOrClean(_ name: String) {
        let mountpoint = layout.mountpoint(name)
        let mounted = MountpointCheck.mountedFileSystemType(at: mountpoint) == "fuse.s3mount"
        var info = stat()
        let alive = mounted && (unsafe stat(mountpoint, &info)) == 0
        if mounted, !alive {
            logger.warning("the daemon of a mounted volume is gone; unmounting it", metadata: ["volume": "\(name)"])
            try? MountProcess.unmount(mountpoint)
        }
        if !alive {
            users[name] = nil
        } else if users[name] == nil {
            logger.notice("volume found mounted; reusing it", metadata: ["volume": "\(name)"])
            users[name] = Users(inherited: true)
        }
    }
}
