import Foundation
import Glibc
import Testing

@testable import s3mount

/// The Docker volume plugin's pieces that need no mount: options to command line, and reading a request.
@Suite struct DockerPluginTests {
    private func command(_ options: [String: String]) throws -> [String] {
        try VolumeOptions.command(options, mountpoint: "/state/volumes/v/_data", cacheDirectory: "/state/volumes/v/cache")
    }

    @Test func optionsBecomeTheMountCommandLine() throws {
        let arguments = try command([
            "bucket": "b", "prefix": "data/", "endpoints": "http://a:1|http://b:2", "ro": "", "allow_other": "true",
            "no-sign-request": "false", "metadata_ttl": "30",
        ])
        #expect(arguments == [
            "b:data/", "/state/volumes/v/_data", "--allow-other", "--endpoint", "http://a:1|http://b:2",
            "--metadata-ttl", "30", "--read-only", "--cache-dir", "/state/volumes/v/cache",
        ])
        let parsed = try S3Mount.parseAsRoot(arguments) as! S3Mount
        #expect(parsed.fileSystem.readOnly && parsed.fileSystem.allowOther && !parsed.connection.noSignRequest)
        #expect(parsed.connection.endpoints == ["http://a:1", "http://b:2"])
    }

    @Test func aVolumeMayNameItsOwnCacheDirectory() throws {
        #expect(try command(["bucket": "b", "cache_dir": "/srv/cache"]) == ["b", "/state/volumes/v/_data", "--cache-dir", "/srv/cache"])
    }

    @Test(arguments: [
        (["prefix": "p"], "option bucket is missing: give -o bucket=NAME"),
        (["bucket": "b", "upload_concurrency": "0"], "bad volume options: --upload-concurrency must be between 1 and 256, got 0"),
        (["bucket": "b", "no_such": "1"], "bad volume options: Unknown option '--no-such'"),
        (["bucket": "b", "AWS_SESSION_TOKEN": "t"], "option AWS_SESSION_TOKEN looks like a credential"),
        (["bucket": "b", "access_key": "k"], "option access_key looks like a credential"),
        (["bucket": "b", "help": ""], "option help is not for volumes"),
    ])
    func badOptionsAreRefusedWithTheReason(_ options: [String: String], _ message: String) {
        let error = #expect(throws: PluginError.self) { _ = try command(options) }
        #expect(error?.description.hasPrefix(message) == true, "\(String(describing: error))")
    }

    @Test(arguments: [("data", true), ("a.b_c-1", true), ("", false), ("-x", false), ("../x", false), ("a/b", false), (".", false)])
    func volumeNames(_ name: String, _ valid: Bool) {
        #expect(VolumeDriver.isVolumeName(name) == valid)
    }

    @Test func aRequestIsReadToTheEndOfItsBody() throws {
        var fds: [Int32] = [0, 0]
        #expect(unsafe socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { fds.forEach { close($0) } }
        let body = #"{"Name":"v","ID":"c1"}"#
        let request = "POST /VolumeDriver.Mount?x=1 HTTP/1.1\r\nHost: plugin.moby.localhost\r\nContent-Type: application/json\r\n"
            + "content-length: \(body.utf8.count)\r\n\r\n" + body
        // the body arrives after the headers, in a write of its own
        #expect(Sockets.writeAll(fds[0], Array(request.utf8.dropLast(5))))
        #expect(Sockets.writeAll(fds[0], Array(request.utf8.suffix(5))))
        shutdown(fds[0], Int32(SHUT_WR))  // a reader that wants more than was sent gets end-of-file, not a hang
        let read = try #require(HTTPRequest.read(fds[1], limit: 1 << 20))
        #expect(read.method == "POST" && read.path == "/VolumeDriver.Mount")
        #expect(read.headers["content-type"] == "application/json" && !read.isChunked)
        #expect(String(decoding: read.body, as: UTF8.self) == body)
    }
}
