// PrefetchRun: the work of `s3mount prefetch` — find the files, read them on `jobs` threads within the bandwidth
// cap, show progress, stop on SIGINT, SIGTERM or SIGHUP (ExitSignals).
import Dispatch
import Foundation
import Glibc
import Synchronization

final class PrefetchRun: Sendable {
    struct Outcome {
        var files: Int
        var readFiles: Int
        var failedFiles: Int
        var bytes: UInt64
        var seconds: Double
        var interrupted: Bool

        var summary: String {
            let rate = seconds > 0 ? Double(bytes) / seconds / 1e6 : 0
            let what = "\(readFiles) of \(files) files, \(Self.megabytes(bytes)) MB in \(String(format: "%.1f", seconds)) s (\(String(format: "%.0f", rate)) MB/s)"
            if interrupted { return "s3mount prefetch: interrupted after \(what)" }
            if failedFiles > 0 { return "s3mount prefetch: \(what); \(failedFiles) could not be read (listed above)" }
            return "s3mount prefetch: read \(what)"
        }

        static func megabytes(_ bytes: UInt64) -> String { String(format: "%.1f", Double(bytes) / 1e6) }
    }

    private struct Queue {
        var files: [String] = []
        var next = 0
    }

    let paths: [String]
    let jobs: Int
    let showProgress: Bool
    private let limiter: ByteRateLimiter?
    private let queue = Mutex(Queue())
    private let bytesRead = Atomic<UInt64>(0)
    private let filesRead = Atomic<Int>(0)
    private let filesFailed = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)

    init(paths: [String], jobs: Int, bytesPerSecond: Int?, showProgress: Bool) {
        self.paths = paths
        self.jobs = jobs
        self.showProgress = showProgress
        self.limiter = bytesPerSecond.map { ByteRateLimiter(bytesPerSecond: Double($0)) }
    }

    func run() -> Outcome {
        let signals = ExitSignals.install { [self] _ in stopped.store(true, ordering: .relaxed) }
        defer { for source in signals { source.cancel() } }
        let started = ContinuousClock.now
        let files = findFiles()
        queue.withLock { $0.files = files }
        let done = DispatchGroup()
        for index in 0..<jobs {
            done.enter()
            let thread = Thread { [self] in
                readFiles()
                done.leave()
            }
            thread.name = "s3m-prefetch-\(index)"
            thread.start()
        }
        while done.wait(timeout: .now() + .milliseconds(500)) == .timedOut {
            if showProgress { progress(total: files.count, since: started) }
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let elapsed = ContinuousClock.now - started
        return Outcome(
            files: files.count, readFiles: filesRead.load(ordering: .relaxed),
            failedFiles: filesFailed.load(ordering: .relaxed), bytes: bytesRead.load(ordering: .relaxed),
            seconds: elapsed / .seconds(1),
            interrupted: stopped.load(ordering: .relaxed))
    }

    /// Every regular file under the paths, in the order a walk finds them (a directory's names sorted).
    private func findFiles() -> [String] {
        var files: [String] = []
        var pending = paths.reversed().map { $0 }
        while let path = pending.popLast(), !stopped.load(ordering: .relaxed) {
            var info = stat()
            guard unsafe lstat(path, &info) == 0 else {
                report(path, errno)
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFREG: files.append(path)
            case S_IFDIR:
                guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
                    report(path, EIO)
                    continue
                }
                let base = path.hasSuffix("/") ? path : path + "/"
                pending += names.sorted().reversed().map { base + $0 }
            default: break
            }
        }
        return files
    }

    private func readFiles() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { unsafe buffer.deallocate() }
        while !stopped.load(ordering: .relaxed), let path = takeFile() {
            let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                report(path, errno)
                continue
            }
            var failure: Int32?
            while !stopped.load(ordering: .relaxed) {
                let count = unsafe read(fd, buffer.baseAddress, buffer.count)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if count == 0 { break }
                bytesRead.add(UInt64(count), ordering: .relaxed)
                limiter?.take(count) { stopped.load(ordering: .relaxed) }
            }
            close(fd)
            if let failure { report(path, failure) } else if !stopped.load(ordering: .relaxed) {
                filesRead.add(1, ordering: .relaxed)
            }
        }
    }

    private func takeFile() -> String? {
        queue.withLock { queue in
            guard queue.next < queue.files.count else { return nil }
            defer { queue.next += 1 }
            return queue.files[queue.next]
        }
    }

    private func report(_ path: String, _ code: Int32) {
        filesFailed.add(1, ordering: .relaxed)
        let line = "s3mount prefetch: \(path): \(unsafe String(cString: strerror(code)))\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    private func progress(total: Int, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let seconds = max(0.001, elapsed / .seconds(1))
        let bytes = bytesRead.load(ordering: .relaxed)
        let line = "\rprefetch: \(filesRead.load(ordering: .relaxed))/\(total) files, \(Outcome.megabytes(bytes)) MB, "
            + String(format: "%.0f MB/s", Double(bytes) / seconds / 1e6) + "\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
