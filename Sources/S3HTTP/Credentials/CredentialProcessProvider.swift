// credential_process: a profile names a command (run with /bin/sh -c, stdin from /dev/null) that prints
// {"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"} on stdout. Its stdout holds
// secrets and is never logged or quoted; a failure is reported by exit status plus the last line of its stderr
// (as the AWS CLI does). A command still running after `timeout` seconds is killed (the shell itself: a background
// child that keeps stdout open keeps the fetch waiting).

import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct CredentialProcessProvider: CredentialProvider {
    let profile: String
    let command: String
    var timeout: Double = 60

    var source: String { "profile \(profile) (credential_process)" }
    var refreshable: Bool { true }

    func fetch() async throws(CredentialError) -> S3Credentials {
        let outcome = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: run()) }
        }
        let output = try outcome.get()
        guard let document = try? JSONSerialization.jsonObject(with: Data(output)) as? [String: Any] else {
            throw CredentialError(description: "\(source): the command did not print a JSON object")
        }
        guard (document["Version"] as? Int) == 1 else {
            throw CredentialError(description: "\(source): the command's JSON must have \"Version\": 1")
        }
        return try CredentialDocument.parse(output, source: source, tokenField: "SessionToken", expirationRequired: false)
    }

    /// Runs the command; its stdout, or the error naming how it failed.
    private func run() -> Result<[UInt8], CredentialError> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            return .failure(CredentialError(description: "\(source): cannot start /bin/sh: \(error.localizedDescription)"))
        }
        // SIGKILL, not terminate(): the daemon's threads block SIGTERM and a child inherits that mask.
        let killer = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        let errors = ErrorOutput()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) { errors.data = stderr.fileHandleForReading.readDataToEndOfFile() }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        readers.wait()
        process.waitUntilExit()
        killer.cancel()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let how =
                process.terminationReason == .exit
                ? "exited with status \(process.terminationStatus)" : "was killed (signal \(process.terminationStatus))"
            let lastLine = String(decoding: errors.data, as: UTF8.self).split(whereSeparator: \.isNewline).last
                .map { ": " + $0.prefix(200) } ?? ""
            return .failure(CredentialError(description: "\(source): the command \(how)\(lastLine)"))
        }
        return .success(Array(output))
    }

    /// The stderr bytes, written by one reader thread and read after it finished (DispatchGroup.wait orders them).
    private final class ErrorOutput: @unchecked Sendable {
        var data = Data()
    }
}
