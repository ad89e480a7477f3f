// StatusClient: finds the control socket of a mountpoint (or of every mount on the node) and reads its
// MountStatus, turning each way it can fail into one clear sentence: not a mount, not an s3mount mount, the
// daemon gone (a socket nobody answers), another user's mount (permission denied).
import Foundation
import Glibc

struct StatusFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum StatusClient {
    /// The status of the s3mount mount at `path`.
    static func status(of path: String) throws(StatusFailure) -> MountStatus {
        // /proc/self/mountinfo first: another user's FUSE mount cannot even be stat'ed, but it is listed there.
        let mountpoint = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let type = MountpointCheck.mountedFileSystemType(at: mountpoint)
        guard type == "fuse.s3mount" else {
            guard FileManager.default.fileExists(atPath: path) else { throw StatusFailure("\(path): no such file or directory") }
            let what = type.map { "a \($0) mount" } ?? (MountpointCheck.fileSystemType(containing: mountpoint) == "fuse.s3mount"
                ? "a path inside an s3mount mount (give the mountpoint)" : "not a mountpoint")
            throw StatusFailure("\(path) is not an s3mount mount: it is \(what)")
        }
        let name = ControlPaths.name(for: mountpoint)
        let candidates = ControlPaths.searchDirectories().map { $0 + "/" + name }
        // The most telling failure wins: refused by permissions, then a socket nobody answers, then none found.
        var refused: StatusFailure?
        var gone: StatusFailure?
        for socket in candidates {
            do {
                return try read(socket)
            } catch let failure as SocketError where failure.code == ENOENT || failure.code == ENOTDIR {
                continue
            } catch let failure as SocketError where failure.code == EACCES || failure.code == EPERM {
                refused = StatusFailure("\(path): permission denied: only the user who mounted it and root may ask")
            } catch let failure as SocketError where failure.code == ECONNREFUSED {
                gone = gone ?? StatusFailure("\(path): its s3mount daemon is gone (nothing answers on \(socket))")
            } catch let failure as StatusFailure {
                throw StatusFailure("\(path): \(failure.description)")
            } catch {
                gone = gone ?? StatusFailure("\(path): \(error)")
            }
        }
        throw refused ?? gone ?? StatusFailure(
            "\(path): no s3mount daemon answers for this mount (no control socket: the daemon is gone, or it runs as another user)")
    }

    /// Every mount on the node that answers this user, by mountpoint.
    static func allMounts() -> [MountStatus] {
        var found: [String: MountStatus] = [:]
        for directory in ControlPaths.searchDirectories() {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for name in names where name.hasPrefix("mnt-") && name.hasSuffix(".sock") {
                guard let status = try? read(directory + "/" + name) else { continue }
                found[status.mountpoint] = status
            }
        }
        return found.keys.sorted().compactMap { found[$0] }
    }

    /// One connection: the daemon writes its document as one JSON line and closes.
    static func read(_ socket: String) throws -> MountStatus {
        let fd = try Sockets.connectUnix(path: socket, timeout: 5)
        defer { close(fd) }
        let answer = Data(Sockets.read(fd, limit: 1 << 20) { $0.last == 10 })
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        if let refusal = try? JSONDecoder().decode([String: String].self, from: answer), let error = refusal["error"] {
            throw StatusFailure(error == "permission denied" ? "permission denied: only the user who mounted it and root may ask" : error)
        }
        do {
            return try decoder.decode(MountStatus.self, from: answer)
        } catch {
            throw StatusFailure("the daemon's answer is not a status (\(answer.isEmpty ? "nothing" : "\(answer.count) bytes"))")
        }
    }
}
