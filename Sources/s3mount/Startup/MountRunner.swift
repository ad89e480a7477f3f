// MountRunner: from parsed options to a served mount, in the order that fails fastest and clearest:
// log sink → mountpoint and /dev/fuse → credentials and endpoint → one LIST against the bucket → FUSE mount →
// "ready" → serve until unmounted. Every failure before "ready" is one MountFailure line; after it, the daemon
// logs and keeps serving (runtime errors become errnos, never an exit).
import CSystem
import Dispatch
import EndpointPool
import Foundation
import FuseBridge
import Glibc
import Logging
import ObjectStore
import Prometheus
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
        // Buffers of 256 KiB and more (blocks) are mapped and unmapped on their own instead of carved from malloc's
        // heaps. glibc otherwise raises that threshold each time such a buffer is freed, after which freed blocks
        // stay in the heap: the daemon's RSS then sat well above what the memory budget counts (100 readers under
        // --memory-limit 64M with 1 MiB blocks peaked at 99-148 MiB; 78-117 MiB with the threshold fixed). Smaller
        // buffers (small files) stay in the heap, where freed ones are reused without fresh page faults.
        _ = s3m_fix_mmap_threshold(256 << 10)
        _ = s3m_limit_malloc_arenas(4)
        // Each file of a small-file epoch mallocs and frees ~100 KiB (its block, curl's receive buffer): with glibc's
        // 128 KiB trim threshold the heaps' tops went back to the kernel and came back as fresh zeroed pages, file
        // after file. Up to 16 MiB per heap (4 heaps) now stays: daemon CPU per GB of a shuffled 100 KiB epoch,
        // median of 6 runs, 4.97 -> 4.48 s/GB.
        _ = s3m_keep_freed_heap_top(16 << 20)
        let sink = try LogSink.open(options: command.process, daemon: !command.process.foreground)
        sink.logCrashes()
        let level = command.process.logLevel
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, sink: sink, logLevel: level) }
        let logger = Logger(label: "s3mount")

        let mountpoint = try MountpointCheck.validate(command.mountpoint, allowNonEmpty: command.fileSystem.nonempty)
        try MountpointCheck.checkFuseDevice()
        // Before the pool, the core and the bridge make their metric handles.
        let registry = command.process.metricsAddress.map { _ in MetricsBootstrap.bootstrap(mountpoint: mountpoint) }
        let storeConfigs = try StoreFactory.configs(command: command, logger: logger)
        let stores: [S3HTTPStore]
        do {
            stores = try storeConfigs.map { config throws(S3ConfigError) in try S3HTTPStore(config: config, logger: logger) }
        } catch {
            throw MountFailure(error.description)
        }
        let prefix = FileSystemConfig.normalizedPrefix(command.bucket.prefix)
        try EndpointCheck(
            stores: stores, configs: storeConfigs, prefix: prefix, wait: command.connection.waitForEndpoints, logger: logger
        ).run()
        let store = makeStore(stores, configs: storeConfigs, prefix: prefix, logger: logger)

        let manifest = try command.reads.prefetchManifest.map { path throws(MountFailure) in
            try ManifestFile.read(path, mountpoint: mountpoint)
        }
        let fileSystem = FileSystem(
            store: store, config: fileSystemConfig(prefix: prefix, endpoints: storeConfigs, manifest: manifest ?? []),
            logger: logger, mountTime: now())
        if let path = command.connection.statsFile {
            StatsFile.start(path: path, pool: store, fileSystem: fileSystem, logger: logger)
        }
        try WriteLifecycle.start(fileSystem, logger: logger)
        let mount = FuseMount(fileSystem: fileSystem, options: mountOptions(mountpoint), logger: logger)
        let observables = MountObservables(
            mountpoint: mountpoint, bucket: store.bucket, prefix: prefix, started: now(), pool: store,
            fileSystem: fileSystem, mount: mount)
        var metricsServer: MetricsServer?
        if let registry, let address = command.process.metricsAddress {
            metricsServer = try serveMetrics(observables, registry, at: address)
        }
        do {
            try mount.mount()
        } catch {
            throw MountFailure("cannot mount \(mountpoint): \(error.description)")
        }
        metricsServer?.start()
        let control = startControlSocket(observables, logger: logger)
        ReadAhead.raise(mountpoint: mountpoint, logger: logger)
        let signals = ExitSignals.install({ name in
            logger.notice("unmounting", metadata: ["signal": "\(name)", "mountpoint": "\(mountpoint)"])
            SystemdNotify.stopping("unmounting \(mountpoint) on \(name)", logger: logger)
            mount.requestExit()
        }, hangup: false)
        let hangup = ExitSignals.onHangup { logger.notice("SIGHUP: log file", metadata: ["log": "\(sink.reopen())"]) }
        Daemon.notifyReady()
        SystemdNotify.ready("serving s3://\(store.bucket)/\(prefix) at \(mountpoint)", logger: logger)
        logger.notice(
            "mounted",
            metadata: ["s3.bucket": "\(store.bucket)", "s3.prefix": "\(prefix)", "mountpoint": "\(mountpoint)",
                       "s3.endpoint": "\(storeConfigs.map { $0.endpoint ?? "aws" }.joined(separator: ","))"])
        let status = mount.run()
        withExtendedLifetime((signals, hangup)) {}
        logger.notice("unmounted", metadata: ["mountpoint": "\(mountpoint)", "status": "\(status)"])
        SystemdNotify.stopping("unmounted \(mountpoint); uploading what is staged", logger: logger)
        control?.remove()
        WriteLifecycle.drain(fileSystem, timeout: command.writes.drainTimeout, logger: logger)
        // Leave without atexit handlers: OpenSSL's and libcurl's cleanups would run while read-ahead, retries or
        // probes still sign and send requests on other threads (a SIGSEGV at exit, seen under the fault tests).
        // Nothing is left to flush: log lines are written unbuffered and uploads were drained (or journalled) above.
        Glibc._exit(0)
    }

    /// Binds --metrics-address before the mount goes live, so a bad or busy address fails the mount.
    private func serveMetrics(
        _ observables: MountObservables, _ registry: PrometheusCollectorRegistry, at address: ListenAddress
    ) throws(MountFailure) -> MetricsServer {
        do {
            return try MetricsServer(address: address, registry: registry, gauges: ScrapeGauges(sources: observables))
        } catch {
            throw MountFailure("cannot serve metrics on \(address): \(error.code == EADDRINUSE ? "the address is in use" : error.description); give another --metrics-address")
        }
    }

    /// The control socket for `s3mount status`; without it the mount still serves (the log says why).
    private func startControlSocket(_ observables: MountObservables, logger: Logger) -> ControlSocket? {
        let sampler = StatusSampler(sources: observables)
        let report = StatusReport(sources: observables, sampler: sampler)
        do {
            let control = try ControlSocket(mountpoint: observables.mountpoint) { report.document() }
            sampler.start()
            control.start(logger: logger)
            return control
        } catch {
            logger.warning("no control socket; s3mount status will not see this mount", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// An EndpointPool over the endpoints' stores, one endpoint included: it brings retries with backoff, the
    /// stall watchdog, throttling and the --stats-file counters to every mount.
    private func makeStore(
        _ stores: [S3HTTPStore], configs: [S3HTTPConfig], prefix: String, logger: Logger
    ) -> EndpointPool {
        let options = command.connection
        let config = EndpointPoolConfig(
            policy: options.endpointPolicy,
            hedging: HedgingPolicy(enabled: options.hedgePercent > 0, maxExtraFraction: options.hedgePercent / 100),
            probePrefix: prefix, maxConcurrencyPerEndpoint: options.maxConnections)
        let endpoints = zip(stores, configs).map { EndpointPool.Endpoint(name: $1.endpointDescription, store: $0) }
        return EndpointPool(endpoints: endpoints, config: config, logger: logger)
    }

    private func fileSystemConfig(prefix: String, endpoints: [S3HTTPConfig], manifest: [String]) -> FileSystemConfig {
        let options = command.fileSystem
        let writes = command.writes.config(
            bucket: command.bucket.bucket, prefix: prefix, endpoints: endpoints.map { $0.endpoint ?? "aws:\($0.region)" })
        return FileSystemConfig(
            prefix: prefix, uid: options.effectiveUID, gid: options.effectiveGID, fileMode: options.fileMode.bits,
            dirMode: options.dirMode.bits, readOnly: options.readOnly, metadataTTL: options.metadataTTL,
            metadataLease: options.metadataLease,
            maxCachedNames: options.maxCachedNames,
            reads: ReadPipelineConfig(
                blockSize: command.reads.blockSize.bytes, maxPrefetch: command.reads.maxPrefetch.bytes,
                memoryLimit: command.reads.effectiveMemoryLimit, maxConcurrentFetches: command.connection.maxConnections,
                kernelReadAhead: ReadAhead.kilobytes << 10, datasetReadAhead: command.reads.datasetReadAhead,
                prefetchManifest: manifest,
                cacheTier: CacheTierSetup.config(
                    cacheDir: command.writes.effectiveCacheDir, cacheSize: command.reads.cacheSize?.bytes,
                    bucket: command.bucket.bucket, endpoints: endpoints.map { $0.endpoint ?? "aws:\($0.region)" })),
            writes: options.readOnly ? nil : writes)
    }

    private func mountOptions(_ mountpoint: String) -> FuseMountOptions {
        let source = "s3mount:" + command.bucket.bucket + (command.bucket.prefix.isEmpty ? "" : "/" + command.bucket.prefix)
        return FuseMountOptions(
            mountpoint: mountpoint, fsName: source.replacingOccurrences(of: ",", with: "_"),
            readOnly: command.fileSystem.readOnly, noExec: command.fileSystem.noExec, allowOther: command.fileSystem.allowOther,
            maxThreads: command.process.maxThreads, maxReadAhead: UInt32(ReadAhead.kilobytes << 10))
    }

    private func now() -> Double { Date().timeIntervalSince1970 }
}
