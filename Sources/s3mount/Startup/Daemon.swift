// Daemon: `s3mount` without --foreground returns only once the mount is live, or has failed with the reason.
//
// The command starts itself again as a child in a new session, with S3MOUNT_NOTIFY set and its stdout a pipe.
// The child does every check and the mount, then writes one line to that pipe: "ready", or "error: <reason>".
// The parent waits for that line (bounded), prints the reason if any, and exits 0 or 1. Re-executing instead of
// fork() keeps the child free of the parent's threads (fork in a multi-threaded Swift process is not safe).
import Foundation
import Glibc

enum Daemon {
    static let notifyVariable = "S3MOUNT_NOTIFY"
    static let readyLine = "ready"
    /// Longest wait for the child's verdict, beyond --wait-for-endpoints; its own checks are bounded well below.
    static let verdictTimeout: Double = 120

    /// In the parent: starts the child and turns its verdict into this process's exit.
    static func start(arguments: [String], endpointWait: Double) throws(MountFailure) {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = arguments
        child.environment = ProcessInfo.processInfo.environment.merging([notifyVariable: "stdout"]) { _, new in new }
        let verdict = Pipe()
        child.standardOutput = verdict
        child.standardInput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        do {
            try child.run()
        } catch {
            throw MountFailure("cannot start the mount process: \(error)")
        }
        do {
            try readVerdict(verdict.fileHandleForReading, timeout: verdictTimeout + endpointWait)
        } catch {
            // The child lets go of the pipe before it exits: a failed `s3mount` returns once it is gone (bounded),
            // so no process is left behind for a mount that did not happen.
            let deadline = Date().addingTimeInterval(5)
            while child.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            throw error
        }
    }

    private static func readVerdict(_ handle: FileHandle, timeout: Double) throws(MountFailure) {
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
            FileHandle.standardError.write(
                Data("s3mount: error: the mount did not become ready within \(Int(timeout)) s; see the log (syslog, or --log-file)\n".utf8))
            exit(1)
        }
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        if line == readyLine { return }
        if line.hasPrefix("error: ") { throw MountFailure(String(line.dropFirst("error: ".count))) }
        throw MountFailure("the mount process exited before the mount was ready; see the log (syslog, or --log-file)")
    }

    /// In the child: true when a parent waits for the verdict.
    static var isChild: Bool { ProcessInfo.processInfo.environment[notifyVariable] != nil }

    /// In the child: leave the parent's session, so closing its terminal does not stop the mount.
    static func detach() {
        if isChild { _ = setsid() }
    }

    /// In the child: tell the parent the mount is live, then let go of the pipe.
    static func notifyReady() {
        notify(readyLine)
    }

    /// In the child: tell the parent why the mount failed.
    static func notifyFailure(_ failure: MountFailure) {
        notify("error: \(failure.description)")
    }

    private static func notify(_ line: String) {
        guard isChild else { return }
        // The parent may be gone (killed, timed out): EPIPE then, which must not stop the mount.
        try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
        let null = unsafe open("/dev/null", O_WRONLY)
        dup2(null, STDOUT_FILENO)
        close(null)
    }
}
