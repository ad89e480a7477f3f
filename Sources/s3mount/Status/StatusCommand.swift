// `s3mount status [MOUNTPOINT…]`: what each s3mount mount on this node is doing, read from its daemon's control
// socket — one screen per mount, `--json` for scripts (an array of MountStatus documents), `--watch` to refresh
// in place like top. No mountpoint: every mount that answers this user.
import ArgumentParser
import Foundation
import Glibc

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3mount status",
        abstract: "Show what s3mount mounts are doing: endpoints, throughput, stalls, caches, uploads, errors.",
        discussion: "Exit status: 0 when every mount asked about answered, 1 otherwise."
    )

    @Argument(help: "Mountpoints of s3mount mounts (default: every mount on this node that you may see).")
    var mountpoints: [String] = []

    @Flag(help: "Print a JSON array with one document per mount.")
    var json = false

    @Flag(help: "Refresh every --interval seconds until interrupted.")
    var watch = false

    @Option(help: "Seconds between refreshes with --watch.")
    var interval: Double = 1

    mutating func validate() throws {
        guard interval >= 0.1, interval <= 3600 else {
            throw ValidationError("--interval must be between 0.1 and 3600 seconds, got \(interval)")
        }
    }

    func run() throws {
        guard watch else {
            if !show() { throw ExitCode(1) }
            return
        }
        while true {
            if !json { print("\u{1B}[H\u{1B}[2J", terminator: "") }
            _ = show()
            fflush(nil)
            Thread.sleep(forTimeInterval: interval)
        }
    }

    /// Prints one round; false when some mount did not answer.
    private func show() -> Bool {
        var statuses: [MountStatus] = []
        var failures: [StatusFailure] = []
        if mountpoints.isEmpty {
            statuses = StatusClient.allMounts()
            if statuses.isEmpty { failures.append(StatusFailure("no s3mount mount on this node answers (none mounted, or all run as other users)")) }
        }
        for path in mountpoints {
            do {
                statuses.append(try StatusClient.status(of: path))
            } catch {
                failures.append(error)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = watch ? [.sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            if let data = try? encoder.encode(statuses) { print(String(decoding: data, as: UTF8.self)) }
        } else {
            print(statuses.map(StatusScreen.render).joined(separator: "\n\n"))
        }
        for failure in failures {
            FileHandle.standardError.write(Data("s3mount status: error: \(failure)\n".utf8))
        }
        return failures.isEmpty
    }
}
