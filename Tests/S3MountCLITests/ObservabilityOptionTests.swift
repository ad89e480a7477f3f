import CoreMetrics
import Foundation
import Observability
import Prometheus
import Testing

@testable import s3mount

@Suite struct ListenAddressTests {
    @Test(arguments: [
        ("127.0.0.1:9464", "127.0.0.1", 9464), ("9464", "127.0.0.1", 9464), ("0.0.0.0:80", "0.0.0.0", 80),
        ("[::1]:9464", "::1", 9464), ("localhost:1", "localhost", 1),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let address = try #require(ListenAddress(argument: text))
        #expect(address.host == host && Int(address.port) == port)
    }

    @Test(arguments: ["", ":9464", "host:", "host:0", "host:70000", "::1:9464", "[::1]9464", "a:b"])
    func refuses(text: String) {
        #expect(ListenAddress(argument: text) == nil)
    }

    @Test func isOffByDefault() throws {
        let command = try S3Mount.parseAsRoot(["bucket", "/mnt"]) as! S3Mount
        #expect(command.process.metricsAddress == nil)
        let given = try S3Mount.parseAsRoot(MountOptionList.expand(["bucket", "/mnt", "-o", "metrics_address=9100"])) as! S3Mount
        #expect(given.process.metricsAddress == ListenAddress(argument: "127.0.0.1:9100"))
    }
}

@Suite struct ControlPathsTests {
    @Test func rootAndUsersHaveTheirOwnDirectories() {
        #expect(ControlPaths.directory(uid: 0, environment: [:]) == "/run/s3mount")
        #expect(ControlPaths.directory(uid: 1000, environment: ["XDG_RUNTIME_DIR": "/run/user/1000"]) == "/run/user/1000/s3mount")
        #expect(ControlPaths.directory(uid: 1000, environment: [:]) == "/tmp/s3mount-1000")
    }

    @Test func socketNamesAreShortStableAndDistinct() {
        let long = "/" + String(repeating: "deep/", count: 60) + "mnt"
        let name = ControlPaths.name(for: long)
        #expect(name == ControlPaths.name(for: long))
        #expect(name.count == "mnt-".count + 16 + ".sock".count)
        #expect(ControlPaths.name(for: "/mnt/a") != ControlPaths.name(for: "/mnt/b"))
    }
}

@Suite struct MetricsExportTests {
    @Test func everySeriesNamesItsMountAndDurationsUseTheSharedBuckets() {
        let registry = PrometheusCollectorRegistry()
        let factory = MetricsBootstrap.factory(registry: registry, mountpoint: "/mnt/data")
        Counter(label: "s3mount_test_total", dimensions: [("source", "s3")], factory: factory).increment(by: 3)
        Timer(label: "s3mount_test_seconds", factory: factory).recordNanoseconds(0)
        let text = registry.emitToString()
        #expect(text.contains(#"s3mount_test_total{mount="/mnt/data",source="s3"} 3"#))
        #expect(text.contains(#"s3mount_test_seconds_bucket{mount="/mnt/data",le="0.0"} 1"#))
        #expect(text.contains(#"s3mount_test_seconds_bucket{mount="/mnt/data",le="10.0"} 1"#))
        #expect(text.contains("# TYPE s3mount_test_seconds histogram"))
    }
}

@Suite struct StatusScreenTests {
    static let sample = MountStatus(
        mountpoint: "/mnt/data", bucket: "b", prefix: "p/", pid: 42, uptimeSeconds: 125,
        endpoints: [
            .init(endpoint: "http://a:1", state: "closed", up: true, requests: 10, errors: 0, throttled: 0, inFlight: 2,
                  concurrencyLimit: 32, latencyMs: 1.5, receivedBytes: 1 << 20),
            .init(endpoint: "http://b:1", state: "open", up: false, requests: 5, errors: 3, throttled: 0, inFlight: 0,
                  concurrencyLimit: 32, latencyMs: nil, receivedBytes: 0),
        ],
        throughput: .init(windowSeconds: 60, s3ReceivedBytesPerSecond: 3 * 1_048_576, readBytesPerSecond: 2 * 1_048_576, readsPerSecond: 10),
        reads: .init(reads: 100, bytesFromMemory: 1 << 30, bytesFromS3: 2 << 30, bytesFromStaging: 0,
                     memoryHitRatio: 0.9, stallP50Seconds: 0, stallP99Seconds: 0.0432, stallMaxSeconds: 1.2),
        metadata: .init(hits: 99, misses: 1, hitRatio: 0.99), memory: .init(usedBytes: 1 << 20, limitBytes: 1 << 30),
        datasetReadAhead: .init(prefetchedBytes: 0, usedBytes: 0),
        uploads: .init(pendingFiles: 2, pendingBytes: 3 << 20, oldestPendingSeconds: 75),
        recentErrors: [.init(time: 0, operation: "read", errno: "EIO", message: "read failed")])

    @Test func oneScreenShowsTheNumbersThatMatter() {
        let screen = StatusScreen.render(Self.sample)
        #expect(screen.hasPrefix("/mnt/data  s3://b/p/  pid 42  up 2m5s"))
        #expect(screen.contains("http://a:1  up  in flight 2/32  latency 1.5 ms"))
        #expect(screen.contains("http://b:1  DOWN"))
        #expect(screen.contains("S3 3.0 MiB/s  reads 2.0 MiB/s (10 reads/s)"))
        #expect(screen.contains("p50 0.0 ms  p99 43.2 ms  max 1.20 s  reads from memory 90.0 %"))
        #expect(screen.contains("2 files, 3.0 MiB pending, oldest 1m15s"))
        #expect(screen.contains("read EIO  read failed"))
    }

    @Test func theDocumentRoundTripsAsSnakeCaseJSON() throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(Self.sample)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""stall_p99_seconds":0.0432"#) && text.contains(#""in_flight":2"#))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        #expect(try decoder.decode(MountStatus.self, from: data) == Self.sample)
    }
}
