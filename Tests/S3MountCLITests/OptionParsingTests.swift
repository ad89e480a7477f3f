import ArgumentParser
import Foundation
import Testing

@testable import s3mount

/// Parses as main() does: -o lists expanded first.
private func parse(_ arguments: [String]) throws -> S3Mount {
    try S3Mount.parseAsRoot(MountOptionList.expand(arguments)) as! S3Mount
}

private func errorMessage(_ arguments: [String]) -> (message: String, exitCode: Int32)? {
    do {
        _ = try parse(arguments)
        return nil
    } catch {
        return (S3MountMain.errorLine(for: error), S3Mount.exitCode(for: error).rawValue)
    }
}

@Suite struct OptionParsingTests {
    @Test func defaultsForAMinimalCommandLine() throws {
        let command = try parse(["bucket", "/mnt"])
        #expect(command.bucket == BucketSpec(argument: "bucket"))
        #expect(command.bucket.prefix == "")
        #expect(command.mountpoint == "/mnt")
        #expect(command.fileSystem.fileMode.bits == 0o644)
        #expect(command.fileSystem.dirMode.bits == 0o755)
        #expect(command.fileSystem.readOnly == false)
        #expect(command.fileSystem.allowOther == false)
        #expect(command.fileSystem.metadataTTL == 1)
        #expect(command.process.foreground == false)
        #expect(command.process.logLevel == .notice)
        #expect(command.process.maxThreads == 16)
        #expect(command.connection.endpoints == [])
        #expect(command.connection.connectTimeout == 5)
    }

    @Test func bucketWithPrefix() throws {
        let command = try parse(["data:train/shards", "/mnt"])
        #expect(command.bucket.bucket == "data")
        #expect(command.bucket.prefix == "train/shards")
    }

    @Test func longOptions() throws {
        let command = try parse([
            "b", "/mnt", "--endpoint", "http://127.0.0.1:7480", "--region", "eu-west-1", "--read-only", "--uid", "1000",
            "--gid", "100", "--file-mode", "0600", "--dir-mode", "700", "--allow-other", "-f", "--log-level", "debug",
            "--metadata-ttl", "3600",
        ])
        #expect(command.connection.endpoints == ["http://127.0.0.1:7480"])
        #expect(command.connection.region == "eu-west-1")
        #expect(command.fileSystem.readOnly)
        #expect(command.fileSystem.effectiveUID == 1000)
        #expect(command.fileSystem.effectiveGID == 100)
        #expect(command.fileSystem.fileMode.bits == 0o600)
        #expect(command.fileSystem.dirMode.bits == 0o700)
        #expect(command.fileSystem.allowOther)
        #expect(command.process.foreground)
        #expect(command.process.logLevel == .debug)
        #expect(command.fileSystem.metadataTTL == 3600)
    }

    @Test func mountOptionListAsFstabPassesIt() throws {
        let command = try parse([
            "b:p", "/mnt", "-o", "ro,_netdev,defaults,nofail,allow_other,uid=7,file_mode=0640,endpoint=http://h:1,max_threads=32",
        ])
        #expect(command.fileSystem.readOnly)
        #expect(command.fileSystem.allowOther)
        #expect(command.fileSystem.effectiveUID == 7)
        #expect(command.fileSystem.fileMode.bits == 0o640)
        #expect(command.connection.endpoints == ["http://h:1"])
        #expect(command.process.maxThreads == 32)
    }

    @Test func attachedMountOptionList() {
        #expect(MountOptionList.expand(["-oro,uid=3", "b", "/m"]) == ["--read-only", "--uid", "3", "b", "/m"])
        #expect(MountOptionList.expand(["-o", "x-systemd.automount,rw"]) == [])
    }

    @Test(arguments: [
        (["b", "/m", "--file-mode", "999"], "octal"),
        (["b", "/m", "--dir-mode", "rwx"], "octal"),
        (["b", "/m", "--endpoint", "ftp://x"], "--endpoint must be an http:// or https:// URL"),
        (["b", "/m", "--metadata-ttl", "-1"], "--metadata-ttl"),
        (["b", "/m", "--max-connections", "0"], "--max-connections"),
        (["b", "/m", "--max-threads", "0"], "--max-threads must be between 1 and 256"),
        (["b", "/m", "-o", "max_threads=1000"], "--max-threads must be between 1 and 256"),
        (["b", "/m", "--connect-timeout", "0"], "--connect-timeout"),
        (["b", "/m", "-o", "bogus"], "Unknown option '--bogus'"),
        (["b", "/m", "--log-level", "loud"], "loud"),
        (["", "/m"], "bucket name is empty"),
        (["my bucket", "/m"], "contains"),
        (["a/b", "/m"], "contains '/'"),
        (["b"], "Missing expected argument"),
    ])
    func badValuesGiveAClearMessageAndUsageExit(arguments: [String], expected: String) throws {
        let failure = try #require(errorMessage(arguments))
        #expect(failure.message.contains(expected), "\(failure.message)")
        #expect(failure.exitCode == 64)
        #expect(!failure.message.contains("\n"), "one line: \(failure.message)")
    }
}

@Suite struct FileModeTests {
    @Test(arguments: [("644", 0o644), ("0755", 0o755), ("4755", 0o4755), ("0", 0)])
    func octalModes(text: String, bits: Int) throws {
        #expect(try FileMode.parse(text).bits == UInt32(bits))
    }

    @Test(arguments: ["", "8", "99999", "17777", "-1", "0x1ff"])
    func invalidModes(text: String) {
        #expect(throws: ValidationError.self) { try FileMode.parse(text) }
    }
}

@Suite struct MountInfoTests {
    @Test func rootIsAMountPointAndTmpSubdirectoryIsNot() {
        #expect(MountpointCheck.mountedFileSystemType(at: "/") != nil)
        #expect(MountpointCheck.mountedFileSystemType(at: "/definitely/not/mounted") == nil)
        #expect(MountpointCheck.mountDevice(at: "/")?.contains(":") == true)
    }

    @Test func missingMountpointNamesTheFix() {
        #expect {
            _ = try MountpointCheck.validate("/nonexistent-s3mount-test-dir", allowNonEmpty: false)
        } throws: { error in
            "\(error)" == "mountpoint /nonexistent-s3mount-test-dir does not exist: create it with 'mkdir -p /nonexistent-s3mount-test-dir'"
        }
    }

    @Test func fileIsNotAMountpoint() {
        #expect {
            _ = try MountpointCheck.validate("/etc/hostname", allowNonEmpty: false)
        } throws: { error in
            "\(error)".contains("is not a directory")
        }
    }

    @Test func nonEmptyDirectoryIsRefusedUnlessAllowed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3mount-nonempty-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try MountpointCheck.validate(directory, allowNonEmpty: false) == directory)
        _ = FileManager.default.createFile(atPath: directory + "/.hidden", contents: Data())
        #expect {
            _ = try MountpointCheck.validate(directory, allowNonEmpty: false)
        } throws: { error in
            "\(error)" == "mountpoint \(directory) is not empty (1 entry: '.hidden'): the mount would hide what is there; give an empty directory, or --nonempty (-o nonempty) to mount over them"
        }
        #expect(try MountpointCheck.validate(directory, allowNonEmpty: true) == directory)
    }

    @Test(arguments: [["--nonempty"], ["-o", "nonempty"], ["-o", "ro,nonempty"]])
    func nonemptyIsAFlagAndAMountOption(extra: [String]) throws {
        #expect(try parse(extra + ["bucket", "/mnt"]).fileSystem.nonempty)
        #expect(try !parse(["bucket", "/mnt"]).fileSystem.nonempty)
    }
}
