// The real S3 server the core is tested against (Ceph RGW in CI): endpoint, keys and bucket from S3_TEST_ENDPOINT
// (or AWS_ENDPOINT_URL), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and S3_BUCKET. Each test writes its objects
// under its own random prefix with boto3 in a child process and mounts that prefix; only loopback is contacted.
import Foundation
import Logging
import ObjectStore
import S3HTTP

enum RealServer {
    static let environment = ProcessInfo.processInfo.environment
    /// Gate for `.enabled(if:)`; CI always sets it.
    static let isConfigured = environment["S3_TEST_ENDPOINT"] != nil
    static var endpoint: String { environment["S3_TEST_ENDPOINT"] ?? environment["AWS_ENDPOINT_URL"] ?? "" }
    static var bucket: String { environment["S3_BUCKET"] ?? "test" }

    struct NotLoopback: Error, CustomStringConvertible {
        var endpoint: String
        var description: String { "refusing to test against \(endpoint): only 127.0.0.1 may be contacted" }
    }

    static func store(bucket: String? = nil) throws -> S3HTTPStore {
        guard URL(string: endpoint)?.host == "127.0.0.1" else { throw NotLoopback(endpoint: endpoint) }
        let credentials = S3Credentials(
            accessKeyID: environment["AWS_ACCESS_KEY_ID"] ?? "",
            secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"] ?? "")
        let config = S3HTTPConfig(
            bucket: bucket ?? self.bucket, endpoint: endpoint, credentials: credentials, connectTimeout: 2)
        let logger = Logger(label: "s3fscore.tests") { _ in SwiftLogNoOpLogHandler() }
        return try S3HTTPStore(config: config, logger: logger)
    }

    static func randomPrefix() -> String { "s3fscore-tests/\(UInt64.random(in: 0..<UInt64.max))/" }

    /// Uploads `objects` (key, bytes) with boto3. A list, not a dictionary: Swift's String equality would merge
    /// keys that differ only in Unicode normalization, which S3 keeps apart.
    static func upload(_ objects: [(key: String, bytes: [UInt8])]) async throws {
        let payload = objects.map { ["key": $0.key, "data": Data($0.bytes).base64EncodedString()] }
        _ = try await runPython(uploadScript, input: try JSONSerialization.data(withJSONObject: payload))
    }

    /// Deletes every object under `prefix` (best effort, for cleanup).
    static func deleteAll(prefix: String) async {
        _ = try? await runPython(deleteScript, input: Data(prefix.utf8))
    }

    private static let botoSetup = """
        import base64, json, os, sys, boto3
        from concurrent.futures import ThreadPoolExecutor
        from botocore.config import Config
        s3 = boto3.client("s3", endpoint_url=os.environ["S3FSCORE_TEST_ENDPOINT"], region_name="us-east-1",
                          config=Config(max_pool_connections=32))
        bucket = os.environ.get("S3_BUCKET", "test")

        """

    private static let uploadScript = botoSetup + """
        def put(item):
            r = s3.put_object(Bucket=bucket, Key=item["key"], Body=base64.b64decode(item["data"]))
            return r["ETag"]
        with ThreadPoolExecutor(32) as pool:
            print(json.dumps(list(pool.map(put, json.load(sys.stdin)))))
        """

    private static let deleteScript = botoSetup + """
        prefix = sys.stdin.read()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        """

    /// Runs a Python script without blocking the caller's thread (stdin and stdout go through temporary files, so
    /// no pipe can fill up); returns stdout, throws on a non-zero exit.
    static func runPython(_ script: String, input: Data) async throws -> Data {
        guard URL(string: endpoint)?.host == "127.0.0.1" else { throw NotLoopback(endpoint: endpoint) }
        let directory = FileManager.default.temporaryDirectory
        let inputURL = directory.appendingPathComponent("s3fscore-\(UUID().uuidString).in")
        let outputURL = directory.appendingPathComponent("s3fscore-\(UUID().uuidString).out")
        defer {
            try? FileManager.default.removeItem(at: inputURL)
            try? FileManager.default.removeItem(at: outputURL)
        }
        try input.write(to: inputURL)
        guard FileManager.default.createFile(atPath: outputURL.path, contents: nil) else {
            throw ScriptError(status: -1)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        process.environment = environment.merging(["S3FSCORE_TEST_ENDPOINT": endpoint]) { _, new in new }
        process.standardInput = try FileHandle(forReadingFrom: inputURL)
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
            }
        }
        guard status == 0 else { throw ScriptError(status: status) }
        return try Data(contentsOf: outputURL)
    }

    struct ScriptError: Error {
        var status: Int32
    }
}
