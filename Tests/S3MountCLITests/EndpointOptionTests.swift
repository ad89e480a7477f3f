import ArgumentParser
import EndpointPool
import Testing

@testable import s3mount

private func parse(_ arguments: [String]) throws -> S3Mount {
    try S3Mount.parseAsRoot(MountOptionList.expand(arguments)) as! S3Mount
}

@Suite struct EndpointOptionTests {
    static let both = ["http://a:7480", "http://b:7481"]

    @Test(arguments: [
        ["--endpoint", "http://a:7480", "--endpoint", "http://b:7481"],
        ["--endpoint", "http://a:7480,http://b:7481"],
        ["--endpoint", "http://a:7480|http://b:7481"],
        ["-o", "ro,endpoint=http://a:7480,endpoint=http://b:7481"],
        ["-o", "endpoint=http://a:7480|http://b:7481,allow_other"],
    ])
    func everySpellingOfSeveralEndpoints(_ extra: [String]) throws {
        let command = try parse(["b", "/mnt"] + extra)
        #expect(command.connection.endpoints == Self.both)
        #expect(command.connection.endpointPolicy == .balanced)
    }

    @Test func policyAndWait() throws {
        let command = try parse(
            ["b", "/mnt", "--endpoint", "http://a:1,http://b:2", "--endpoint-policy", "failover", "--wait-for-endpoints", "30",
             "-o", "hedge_percent=0"])
        #expect(command.connection.endpointPolicy == .failover)
        #expect(command.connection.waitForEndpoints == 30)
        #expect(command.connection.hedgePercent == 0)
    }

    @Test(arguments: [
        (["--endpoint", "http://a:1,ftp://b"], "--endpoint must be an http:// or https:// URL, got 'ftp://b'"),
        (["--endpoint", "http://a:1", "--endpoint", "http://a:1"], "--endpoint http://a:1 is given twice"),
        (["--endpoint-policy", "random"], "--endpoint-policy"),
        (["--wait-for-endpoints", "-1"], "--wait-for-endpoints"),
        (["--hedge-percent", "60"], "--hedge-percent must be between 0 and 50, got 60.0"),
    ])
    func badValuesGiveOneClearLine(_ extra: [String], _ expected: String) {
        do {
            _ = try parse(["b", "/mnt"] + extra)
            Issue.record("parsed \(extra)")
        } catch {
            let line = S3MountMain.errorLine(for: error)
            #expect(line.contains(expected), "\(line)")
            #expect(S3Mount.exitCode(for: error).rawValue == 64)
        }
    }
}
