// MountRunner: from parsed options to a served mount, in the order that fails fastest and clearest:
// log sink → mountpoint and /dev/fuse → credentials and endpoint → one LIST against the bucket → FUSE mount →
// "ready" → serve until unmounted. Every failure before "ready" is one MountFailure line; after it, the daemon
// logs and keeps serving (runtime errors become errnos, never an exit).
import Dispatch
import Foundation
import FuseBridge
import Glibc
import Logging
import ObjectStore
import S3FSCore
import S3HTTP

struct MountRunner {
    let command: S3Mount

    func run() throws(MountFailure) {
        Daemon.detach()
        do {
            try mountAndServe()
        } catch {
            Daemon.notifyFailure(error)
            throw error
        }
    }

    private func mountAndServe() throws(MountFailure) {
        let sink = try LogSink.open(options: command.process, daemon: !command.process.foreground)
        let level = command.process.logLevel
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, sink: sink, logLevel: level) }
        let logger = Logger(label: "s3mount")

        let mountpoint = try MountpointCheck.validate(command.mountpoint)
        try MountpointCheck.checkFuseDevice()
        let storeConfig = try StoreFactory.config(command: command, logger: logger)
        let store: S3HTTPStore
        do {
            store = try S3HTTPStore(config: storeConfig, logger: logger)
        } catch {
            throw MountFailure(error.description)
        }
        let prefix = FileSystemConfig.normalizedPrefix(command.bucket.prefix)
        try checkBucket(store, prefix: prefix, config: storeConfig)

        let fileSystem = FileSystem(store: store, config: fileSystemConfig(prefix: prefix), logger: logger, mountTime: now())
        let mount = FuseMount(fileSystem: fileSystem, options: mountOptions(mountpoint), logger: logger)
        do {
            try mount.mount()
        } catch {
            throw MountFailure("cannot mount \(mountpoint): \(error.description)")
        }
        ReadAhead.raise(mountpoint: mountpoint, logger: logger)
        let signals = ExitSignals.install { mount.requestExit() }
        Daemon.notifyReady()
        logger.notice(
            "mounted",
            metadata: ["s3.bucket": "\(store.bucket)", "s3.prefix": "\(prefix)", "mountpoint": "\(mountpoint)",
                       "s3.endpoint": "\(storeConfig.endpoint ?? "aws")"])
        let status = mount.run()
        withExtendedLifetime(signals) {}
        logger.notice("unmounted", metadata: ["mountpoint": "\(mountpoint)", "status": "\(status)"])
    }

    private func checkBucket(_ store: S3HTTPStore, prefix: String, config: S3HTTPConfig) throws(MountFailure) {
        let result = BlockingWait.result { () async throws(ObjectStoreError) in try await store.checkBucket(prefix: prefix) }
        if case .failure(let error) = result {
            throw MountFailure.bucketCheck(error, bucket: store.bucket, endpoint: config.endpointDescription, config: config)
        }
    }

    private func fileSystemConfig(prefix: String) -> FileSystemConfig {
        let options = command.fileSystem
        return FileSystemConfig(
            prefix: prefix, uid: options.effectiveUID, gid: options.effectiveGID, fileMode: options.fileMode.bits,
            dirMode: options.dirMode.bits, readOnly: options.readOnly, metadataTTL: options.metadataTTL,
            reads: ReadPipelineConfig(
                blockSize: command.reads.blockSize.bytes, maxPrefetch: command.reads.maxPrefetch.bytes,
                memoryLimit: command.reads.effectiveMemoryLimit, maxConcurrentFetches: command.connection.maxConnections,
                kernelReadAhead: ReadAhead.kilobytes << 10))
    }

    private func mountOptions(_ mountpoint: String) -> FuseMountOptions {
        let source = "s3mount:" + command.bucket.bucket + (command.bucket.prefix.isEmpty ? "" : "/" + command.bucket.prefix)
        return FuseMountOptions(
            mountpoint: mountpoint, fsName: source.replacingOccurrences(of: ",", with: "_"),
            readOnly: command.fileSystem.readOnly, allowOther: command.fileSystem.allowOther)
    }

    private func now() -> Double { Date().timeIntervalSince1970 }
}
