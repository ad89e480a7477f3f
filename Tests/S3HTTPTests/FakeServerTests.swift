// Transfer-engine behaviour that a well-behaved S3 server never shows, against a tiny local Python server
// on 127.0.0.1: a 200 answer to a ranged GET (the window is sliced out), a response that stalls mid-body
// (low-speed abort → timedOut), and cancelling the awaiting task (the transfer is removed promptly).

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import ObjectStore
import S3HTTP
import Testing

@Suite(.serialized)
struct FakeServerTests {
    static let objectSize = 100_000

    /// A running fake server: its process, endpoint, and the file it appends each request path to.
    struct Server {
        let process: Process
        let endpoint: String
        let requestLog: URL

        /// SIGKILL, not terminate(): the test process blocks SIGTERM in the threads that spawn children, and the
        /// child inherits that mask, so a SIGTERM would leave the server (and the test runner) hanging.
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        /// Waits (bounded) until the server has received a request for `path`.
        func waitForRequest(_ path: String) async throws {
            for _ in 0..<400 {
                if let log = try? String(contentsOf: requestLog, encoding: .utf8), log.contains(path) { return }
                try await Task.sleep(for: .milliseconds(25))
            }
            Issue.record("the server never saw a request for \(path)")
        }
    }

    /// Starts the server; returns once it listens.
    static func startServer() async throws -> Server {
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("s3http-port-\(UUID().uuidString)")
        let script = """
            import http.server, os, sys, time
            SIZE = \(objectSize)
            BODY = bytes(i % 251 for i in range(SIZE))
            class H(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def log_message(self, *a): pass
                def do_GET(self):
                    open(sys.argv[1] + ".requests", "a").write(self.path + "\\n")
                    self.send_response(200)
                    self.send_header("Content-Length", str(SIZE))
                    self.end_headers()
                    if self.path.startswith("/bucket/stall"):
                        self.wfile.write(BODY[:10]); self.wfile.flush(); time.sleep(30); return
                    self.wfile.write(BODY)  # ignores Range, like some gateways
            s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
            open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
            os.rename(sys.argv[1] + ".tmp", sys.argv[1])
            s.serve_forever()
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, portFile.path]
        // The server must not hold the test runner's stdout/stderr open (a pipe reader would wait for it).
        process.standardOutput = FileHandle.nullDevice
        let stderrURL = portFile.appendingPathExtension("stderr")
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        for _ in 0..<600 {  // up to 30 s: startup is slow while the integration tests' boto3 processes run
            if let port = try? String(contentsOf: portFile, encoding: .utf8), !port.isEmpty {
                return Server(
                    process: process, endpoint: "http://127.0.0.1:\(port)",
                    requestLog: URL(fileURLWithPath: portFile.path + ".requests"))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGKILL)
        throw ServerDidNotStart(stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "")
    }

    struct ServerDidNotStart: Error {
        var stderr: String
    }

    static func store(_ endpoint: String, lowSpeedTime: Int = 30) throws -> S3HTTPStore {
        // curl averages speed over the last few seconds, so the limit sits well above the 10 bytes sent.
        try S3HTTPStore(
            config: S3HTTPConfig(bucket: "bucket", endpoint: endpoint, lowSpeedLimit: 1000, lowSpeedTime: lowSpeedTime),
            logger: Logger(label: "s3http.tests"))
    }

    static let body = (0..<objectSize).map { UInt8($0 % 251) }

    @Test func slicesAWholeObjectAnswerToARangedGet() async throws {
        let server = try await Self.startServer()
        defer { server.stop() }
        let endpoint = server.endpoint
        let store = try Self.store(endpoint)
        for range: Range<UInt64> in [0..<10, 5000..<6000, 99_990..<100_000, 99_000..<200_000] {
            let bytes = try await store.get(key: "object", range: ByteRange(range), ifMatch: nil)
            #expect(bytes == Array(Self.body[Int(range.lowerBound)..<min(Int(range.upperBound), Self.objectSize)]))
        }
        #expect(try await store.get(key: "object", range: nil, ifMatch: nil) == Self.body)
        #expect(
            await Kinds.of { _ = try await store.get(key: "o", range: ByteRange(200_000..<200_001), ifMatch: nil) }
                == .service(.invalidRange))
    }

    @Test func stalledBodyTimesOut() async throws {
        let server = try await Self.startServer()
        defer { server.stop() }
        let endpoint = server.endpoint
        let store = try Self.store(endpoint, lowSpeedTime: 1)
        let started = ContinuousClock.now
        #expect(await Kinds.of { _ = try await store.get(key: "stall", range: nil, ifMatch: nil) } == .client(.timedOut))
        // The server holds the body for 30 s: only the stall timer can have ended the transfer before that.
        #expect(ContinuousClock.now - started < .seconds(25))
    }

    @Test func cancellingTheCallerRemovesTheTransfer() async throws {
        let server = try await Self.startServer()
        defer { server.stop() }
        let endpoint = server.endpoint
        let store = try Self.store(endpoint)
        let task = Task { await Kinds.of { _ = try await store.get(key: "stall", range: nil, ifMatch: nil) } }
        try await server.waitForRequest("/bucket/stall")
        let started = ContinuousClock.now
        task.cancel()
        #expect(await task.value == .client(.other))
        // The server holds the body for 30 s: only the cancellation can have ended the transfer before that.
        #expect(ContinuousClock.now - started < .seconds(25))
        // The engine keeps serving after a cancellation.
        #expect(try await store.get(key: "object", range: ByteRange(0..<3), ifMatch: nil) == [0, 1, 2])
    }
}
