// StatusScreen: one mount's MountStatus as a screen of text for `s3mount status`, the numbers an operator reads
// first on top: endpoints and their state, throughput, how reads were served and how long they stalled.
import Foundation

enum StatusScreen {
    static func render(_ status: MountStatus) -> String {
        var lines = [
            "\(status.mountpoint)  s3://\(status.bucket)/\(status.prefix)  pid \(status.pid)  up \(duration(status.uptimeSeconds))"
        ]
        for (index, endpoint) in status.endpoints.enumerated() {
            let state = endpoint.up ? "up" : endpoint.state == "open" ? "DOWN" : "TRIAL"
            lines.append(
                row(index == 0 ? "endpoints" : "",
                    "\(endpoint.endpoint)  \(state)  in flight \(endpoint.inFlight)/\(endpoint.concurrencyLimit)"
                        + "  latency \(endpoint.latencyMs.map { String(format: "%.1f ms", $0) } ?? "-")"
                        + "  requests \(endpoint.requests)  errors \(endpoint.errors)  throttled \(endpoint.throttled)"))
        }
        let throughput = status.throughput
        lines.append(row("throughput",
            "S3 \(bytes(throughput.s3ReceivedBytesPerSecond))/s  reads \(bytes(throughput.readBytesPerSecond))/s"
                + String(format: " (%.0f reads/s)", throughput.readsPerSecond) + "  over the last \(Int(throughput.windowSeconds.rounded())) s"))
        let reads = status.reads
        lines.append(row("stall",
            "p50 \(seconds(reads.stallP50Seconds))  p99 \(seconds(reads.stallP99Seconds))  max \(seconds(reads.stallMaxSeconds))"
                + "  reads from memory \(percent(reads.memoryHitRatio))"))
        lines.append(row("bytes read",
            "memory \(bytes(Double(reads.bytesFromMemory)))  S3 \(bytes(Double(reads.bytesFromS3)))"
                + "  staging \(bytes(Double(reads.bytesFromStaging)))  (\(reads.reads) reads)"))
        lines.append(row("metadata",
            "hit ratio \(percent(status.metadata.hitRatio))  (\(status.metadata.hits) hits, \(status.metadata.misses) misses)"))
        lines.append(row("memory",
            "\(bytes(Double(status.memory.usedBytes))) of \(bytes(Double(status.memory.limitBytes)))"))
        lines.append(row("read-ahead",
            "dataset \(bytes(Double(status.datasetReadAhead.prefetchedBytes))) prefetched, "
                + "\(bytes(Double(status.datasetReadAhead.usedBytes))) used"))
        let uploads = status.uploads
        lines.append(row("uploads", uploads.pendingFiles == 0 ? "nothing pending" :
            "\(uploads.pendingFiles) files, \(bytes(Double(uploads.pendingBytes))) pending, oldest \(duration(uploads.oldestPendingSeconds))"))
        if status.recentErrors.isEmpty { lines.append(row("errors", "none")) }
        for (index, error) in status.recentErrors.suffix(5).enumerated() {
            let time = Date(timeIntervalSince1970: error.time).formatted(.iso8601.time(includingFractionalSeconds: false))
            lines.append(row(index == 0 ? "errors" : "", "\(time)  \(error.operation) \(error.errno)  \(error.message)"))
        }
        return lines.joined(separator: "\n")
    }

    private static func row(_ title: String, _ text: String) -> String {
        "  " + title.padding(toLength: 12, withPad: " ", startingAt: 0) + text
    }

    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var scaled = value
        var unit = 0
        while scaled >= 1024, unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(scaled)) B" : String(format: "%.1f %@", scaled, units[unit])
    }

    static func seconds(_ value: Double?) -> String {
        guard let value else { return "-" }
        return value < 1 ? String(format: "%.1f ms", value * 1000) : String(format: "%.2f s", value)
    }

    static func percent(_ ratio: Double?) -> String { ratio.map { String(format: "%.1f %%", $0 * 100) } ?? "-" }

    static func duration(_ value: Double) -> String {
        let total = Int(value)
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(total % 60)s" }
        return "\(total / 3600)h\(total % 3600 / 60)m"
    }
}
