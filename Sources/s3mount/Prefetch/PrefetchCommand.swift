// `s3mount prefetch PATH…`: warms the caches of a running mount for a job that will read PATH (a dataset
// directory, a list of shards) in an order nothing could predict. Every file under the paths is read once through
// the mount, several at a time, and the bytes are dropped: the kernel's page cache keeps them (s3mount keeps the
// page cache across opens of an unchanged object), so the job's own reads are served from memory. A progress line,
// a bandwidth cap, and Ctrl-C stops at once with what was done so far.
import ArgumentParser
import Foundation

struct PrefetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3mount prefetch",
        abstract: "Warm a running s3mount mount's caches: read every file under PATH once, in parallel.",
        discussion: """
            Files are read through the mount and their bytes dropped; the kernel's page cache keeps them for the \
            job that reads them next. Exit status: 0 when every file was read, 1 when some could not be, 130 after \
            Ctrl-C.
            """
    )

    @Argument(help: "Files or directories on an s3mount mount (directories are read recursively).")
    var paths: [String]

    @Option(help: "Files read at once.")
    var jobs = 16

    @Option(help: "The most bytes per second to read (K, M, G: powers of 1024; default unlimited).", transform: ByteSize.parse)
    var bandwidth: ByteSize?

    @Flag(help: "No progress line, only the summary.")
    var quiet = false

    mutating func validate() throws {
        guard (1...256).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 256, got \(jobs)") }
        if let bandwidth, bandwidth.bytes < 4096 {
            throw ValidationError("--bandwidth must be at least 4K, got \(ByteSize.describe(bandwidth.bytes))")
        }
    }

    func run() throws {
        for path in paths {
            let type = MountpointCheck.fileSystemType(containing: path)
            guard type == "fuse.s3mount" else {
                throw PrefetchFailure(
                    "\(path) is not on an s3mount mount (\(type ?? "no such path")): give a path under a mounted bucket")
            }
        }
        let outcome = PrefetchRun(
            paths: paths, jobs: jobs, bytesPerSecond: bandwidth?.bytes, showProgress: !quiet && isatty(STDERR_FILENO) == 1
        ).run()
        FileHandle.standardError.write(Data((outcome.summary + "\n").utf8))
        if outcome.interrupted { throw ExitCode(130) }
        if outcome.failedFiles > 0 { throw ExitCode(1) }
    }
}

/// A failure that stops `s3mount prefetch` before it reads anything, with the reason.
struct PrefetchFailure: CommandFailure {
    let description: String
    init(_ description: String) { self.description = description }
}
