// MountProcess: starts and stops the s3mount daemon of one volume. Mounting runs this same binary as a plain
// `s3mount BUCKET[:PREFIX] MOUNTPOINT …` (daemon mode: it exits 0 once the mount is live, or 1 with one error
// line, and its daemon carries on in a session of its own); unmounting is `fusermount3 -u`, after which the daemon
// drains its uploads and exits by itself. The daemons get the plugin's environment (credentials, AWS_PROFILE,
// proxies), less the variables that would make them report to a parent other than this one (NOTIFY_SOCKET,
// S3MOUNT_NOTIFY). Output goes to a temporary file, not a pipe, which a daemon could hold open.
import Foundation

enum MountProcess {
    static let withheldVariables = ["NOTIFY_SOCKET", Daemon.notifyVariable]

    static func mount(_ arguments: [String]) throws(PluginError) {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        var environment = ProcessInfo.processInfo.environment
        for name in withheldVariables { environment[name] = nil }
        let (status, output) = try run(binary, arguments, environment: environment)
        if status != 0 {
            let line = output.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit status \(status)"
            let prefix = "s3mount: error: "
            throw PluginError(line.hasPrefix(prefix) ? String(line.dropFirst(prefix.count)) : line)
        }
    }

    static func unmount(_ mountpoint: String) throws(PluginError) {
        let (status, output) = try run("/usr/bin/env", ["fusermount3", "-u", mountpoint], environment: nil)
        if status != 0 {
            let reason = output.trimmingCharacters(in: .whitespacesAndNewlines)
            throw PluginError("cannot unmount \(mountpoint): \(reason.isEmpty ? "fusermount3 exited \(status)" : reason)")
        }
    }

    /// Runs a program to its end; its exit status and what it wrote to stdout and stderr.
    private static func run(_ executable: String, _ arguments: [String], environment: [String: String]?)
        throws(PluginError) -> (Int32, String)
    {
        let outputPath = NSTemporaryDirectory() + "/s3mount-docker-\(UUID().uuidString).out"
        guard FileManager.default.createFile(atPath: outputPath, contents: nil),
            let output = FileHandle(forUpdatingAtPath: outputPath)
        else { throw PluginError("cannot create \(outputPath): check TMPDIR") }
        defer {
            try? output.close()
            try? FileManager.default.removeItem(atPath: outputPath)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            throw PluginError("cannot run \(executable): \(error.localizedDescription)")
        }
        process.waitUntilExit()
        let text = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: outputPath))) ?? Data(), as: UTF8.self)
        return (process.terminationStatus, text)
    }
}
