// The Docker volume plugin: `s3mount serve docker` answers Docker's v1 VolumeDriver protocol (HTTP/1.1 POSTs with
// JSON bodies on a unix socket; dockerd finds /run/docker/plugins/NAME.sock by itself) so that
// `docker volume create -d s3mount -o bucket=B …` and `docker run -v VOLUME:/data` mount buckets.
//
// Pieces: VolumeDriver routes each request; VolumeCatalog keeps the volumes (name and options) in a JSON state
// file written atomically, so they survive a restart of the plugin; VolumeOptions turns a volume's options into
// an s3mount command line and checks it at Create with s3mount's own argument parser, so a bad option fails
// Create and no half-made volume is kept; VolumeMounts counts the containers that use each mounted volume and
// runs one ordinary s3mount daemon per mounted volume (MountProcess): the first Mount starts it on
// STATE/volumes/NAME/_data, the last Unmount unmounts it. The daemons are processes of their own, so mounts stay
// when the plugin stops; the counts are not kept, and a mount found live after a restart is reused and left
// mounted until Remove (its users are unknown). Requests are answered one at a time, so Mount and Unmount of the
// same volume never race. Credentials never travel in options: the daemons get the plugin's environment and
// profile files (profile=NAME).
import ArgumentParser
import Foundation
import Glibc
import Logging

struct DockerPluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docker",
        abstract: "Serve Docker's volume plugin protocol: volumes that are S3 buckets.",
        discussion: """
            docker volume create -d s3mount -o bucket=NAME [-o prefix=P] [-o endpoint=URL] [-o ro] [-o OPTION=VALUE …] VOLUME; \
            OPTION is any s3mount option without its dashes. Credentials come from the plugin's environment or -o profile=NAME.
            """
    )

    @Option(help: "The unix socket dockerd connects to.")
    var socket = "/run/docker/plugins/s3mount.sock"

    @Option(help: "Where the volume list (volumes.json) and the volumes' mountpoints and write caches live.")
    var stateDir = "/var/lib/s3mount/docker"

    func run() throws {
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, sink: .standardError, logLevel: .notice) }
        let logger = Logger(label: "s3mount.docker")
        // absolute, since dockerd gets the mountpoints under it
        let layout = PluginLayout(stateDirectory: URL(fileURLWithPath: stateDir).standardizedFileURL.path)
        let catalog = try VolumeCatalog(layout: layout)
        let listener = try listen()
        logger.notice("serving the Docker volume plugin", metadata: [
            "socket": "\(socket)", "state_dir": "\(layout.stateDirectory)", "volumes": "\(catalog.volumes.count)",
        ])
        let driver = VolumeDriver(catalog: catalog, mounts: VolumeMounts(layout: layout, logger: logger), logger: logger)
        SocketServer.serve(listener, timeout: 5) { driver.answer($0) }
    }

    private func listen() throws(PluginError) -> Int32 {
        do {
            try PluginLayout.makeDirectories((socket as NSString).deletingLastPathComponent)
            let listener = try Sockets.listenUnix(path: socket)
            unsafe chmod(socket, 0o600)
            return listener
        } catch {
            throw PluginError("cannot serve on \(socket): \(error); give another --socket")
        }
    }
}
