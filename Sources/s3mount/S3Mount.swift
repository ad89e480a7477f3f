import ArgumentParser
import Foundation
import Logging

/// `s3mount [options] BUCKET[:PREFIX] MOUNTPOINT`: mounts an S3 bucket (or a prefix of it) as a directory.
/// `s3mount prefetch PATH…` warms a running mount's caches (PrefetchCommand); `s3mount status [MOUNTPOINT…]`
/// shows what mounts are doing (StatusCommand); `s3mount serve docker` is the Docker volume plugin (ServeCommand); a
/// bucket named "prefetch", "status" or "serve" is mounted as `prefetch:`, `status:` or `serve:`.
struct S3Mount: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3mount",
        abstract: "Mount an S3 bucket as a POSIX directory.",
        discussion: """
            Options may also be given as mount(8) does, -o opt,opt=value (e.g. -o ro,allow_other,endpoint=URL; several endpoints: endpoint=URL1,endpoint=URL2 or endpoint=URL1|URL2), so \
            s3mount works from /etc/fstab with type fuse.s3mount. Unmount with: fusermount3 -u MOUNTPOINT
            """,
        version: BuildInfo.versionLine
    )

    @Argument(help: "The bucket, optionally with a key prefix to mount instead of the whole bucket.")
    var bucket: BucketSpec

    @Argument(help: "An existing empty directory to mount on.")
    var mountpoint: String

    @OptionGroup(title: "S3") var connection: ConnectionOptions
    @OptionGroup(title: "File system") var fileSystem: FileSystemOptions
    @OptionGroup(title: "Reads") var reads: ReadOptions
    @OptionGroup(title: "Writes") var writes: WriteOptions
    @OptionGroup(title: "Process") var process: ProcessOptions

    mutating func validate() throws {
        if let reason = bucket.invalidReason { throw ValidationError("\(reason); give BUCKET or BUCKET:PREFIX") }
        if mountpoint.isEmpty { throw ValidationError("the mountpoint is empty; give an existing directory") }
    }

    func run() throws {
        if process.foreground || ProcessInfo.processInfo.environment[Daemon.notifyVariable] != nil {
            try MountRunner(command: self).run()
        } else {
            try Daemon.start(arguments: Array(CommandLine.arguments.dropFirst()), endpointWait: connection.waitForEndpoints)
        }
    }
}

@main
enum S3MountMain {
    /// Parses, runs and turns every failure into one line `s3mount: error: …` and a non-zero exit status.
    static func main() {
        ExitSignals.ignoreBrokenPipes()
        let given = Array(CommandLine.arguments.dropFirst())
        if given.first == "prefetch" { return SubcommandMain.main(PrefetchCommand.self, name: "prefetch", Array(given.dropFirst())) }
        if given.first == "status" { return SubcommandMain.main(StatusCommand.self, name: "status", Array(given.dropFirst())) }
        if given.first == "serve" { return SubcommandMain.main(ServeCommand.self, name: "serve", Array(given.dropFirst())) }
        let arguments = MountOptionList.expand(given)
        do {
            var command = try S3Mount.parseAsRoot(arguments)
            try command.run()
        } catch {
            let code = S3Mount.exitCode(for: error)
            if code == .success {
                print(S3Mount.fullMessage(for: error))
            } else {
                try? FileHandle.standardError.write(contentsOf: Data("s3mount: error: \(errorLine(for: error))\n".utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }

    /// The parser's message for `error` on one line (it lists an option's choices on lines of their own).
    static func errorLine(for error: any Error) -> String {
        S3Mount.message(for: error).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// `s3mount prefetch …` and `s3mount status …`: the same one-line errors and exit statuses as a mount, as
/// `s3mount NAME: error: …`; a CommandFailure (a reason found before any work) exits 1.
enum SubcommandMain {
    static func main<Command: ParsableCommand>(_: Command.Type, name: String, _ arguments: [String]) {
        do {
            var command = try Command.parseAsRoot(arguments)
            try command.run()
        } catch let failure as any CommandFailure {
            try? FileHandle.standardError.write(contentsOf: Data("s3mount \(name): error: \(failure)\n".utf8))
            Foundation.exit(1)
        } catch {
            let code = Command.exitCode(for: error)
            if code == .success {
                print(Command.fullMessage(for: error))
            } else if !(error is ExitCode) {
                let line = Command.message(for: error).split(whereSeparator: \.isNewline)
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
                try? FileHandle.standardError.write(contentsOf: Data("s3mount \(name): error: \(line)\n".utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}

/// A subcommand's reason to stop before doing anything, printed as its one error line.
protocol CommandFailure: Error, CustomStringConvertible {}
