import Testing

@testable import s3mount

/// How `-o` lists from mount(8), mount.fuse3 and fstab become s3mount's options.
@Suite struct MountOptionListTests {
    private func parse(_ arguments: [String]) throws -> S3Mount {
        try S3Mount.parseAsRoot(MountOptionList.expand(arguments)) as! S3Mount
    }

    /// What mount(8) and mount.fuse3 hand over for an fstab line with every generic option.
    @Test func mountsOwnOptionsAreAcceptedAndOnlyROAndNoexecApply() throws {
        let generic = "_netdev,nofail,noauto,auto,user,users,nouser,defaults,rw,dev,nodev,suid,nosuid,exec,atime,"
            + "noatime,relatime,strictatime,nodiratime,lazytime,sync,async,x-systemd.mount-timeout=150,"
            + "x-systemd.automount,comment=set by ansible"
        let plain = try parse(["b", "/m", "-o", generic])
        #expect(!plain.fileSystem.readOnly)
        #expect(!plain.fileSystem.noExec)
        let restricted = try parse(["b", "/m", "-o", generic + ",ro,noexec"])
        #expect(restricted.fileSystem.readOnly)
        #expect(restricted.fileSystem.noExec)
    }

    @Test func everyOptionHasAnOFormWithUnderscores() throws {
        let command = try parse([
            "b:p", "/m", "-o",
            "endpoint=http://h:1|http://h:2,endpoint_policy=failover,hedge_percent=0,wait_for_endpoints=30,"
                + "region=eu-west-1,profile=data,virtual_hosted_style,connect_timeout=2,stall_timeout=5,"
                + "max_connections=8,read_only,no_exec,uid=5,gid=6,file_mode=0600,dir_mode=0700,allow_other,"
                + "metadata_ttl=60,max_cached_names=5000,foreground,log_level=debug,log_file=/tmp/l",
        ])
        #expect(command.connection.endpoints == ["http://h:1", "http://h:2"])
        #expect(command.connection.waitForEndpoints == 30)
        #expect(command.connection.profile == "data")
        #expect(command.connection.virtualHostedStyle)
        #expect(command.connection.maxConnections == 8)
        #expect(command.fileSystem.readOnly && command.fileSystem.noExec && command.fileSystem.allowOther)
        #expect(command.fileSystem.effectiveUID == 5 && command.fileSystem.effectiveGID == 6)
        #expect(command.fileSystem.metadataTTL == 60)
        #expect(command.process.foreground)
        #expect(command.process.logFile == "/tmp/l")
    }

    @Test func anUnknownOptionIsNamedInTheError() throws {
        let error = #expect(throws: (any Error).self) { try parse(["b", "/m", "-o", "ro,no_such_option=1"]) }
        #expect(S3MountMain.errorLine(for: try #require(error)).contains("--no-such-option"))
    }

    @Test func versionNamesTheReleaseAndTheCommit() {
        // swift test builds without S3MOUNT_COMMIT; make build and make deb pass it.
        #expect(BuildInfo.versionLine == "\(BuildInfo.version) (commit unknown)")
        #expect(S3Mount.configuration.version == BuildInfo.versionLine)
    }
}
