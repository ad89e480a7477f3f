// Shared setup for the tests against a real S3 server (Ceph RGW in CI): endpoint, keys and bucket come from
// S3_TEST_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and S3_BUCKET. Each test writes its own objects
// under a random prefix with boto3 (run as a child process), so the store under test only ever reads.

import Foundation
import Logging
import ObjectStore
import S3HTTP

enum IntegrationEnvironment {
    static let environment = ProcessInfo.processInfo.environment
    /// Gate for `.enabled(if:)`; CI always sets it.
    static let isConfigured = environment["S3_TEST_ENDPOINT"] != nil
    static var endpoint: String { environment["S3_TEST_ENDPOINT"] ?? "" }
    static var bucket: String { environment["S3_BUCKET"] ?? "test" }
    static var credentials: S3Credentials {
        S3Credentials(
            accessKeyID: environment["AWS_ACCESS_KEY_ID"] ?? "",
            secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"] ?? "")
    }

    static func config(bucket: String? = nil, endpoint: String? = nil) -> S3HTTPConfig {
        S3HTTPConfig(
            bucket: bucket ?? self.bucket, endpoint: endpoint ?? self.endpoint, credentials: credentials,
            connectTimeout: 2)
    }

    static func store(_ config: S3HTTPConfig? = nil) throws -> S3HTTPStore {
        try S3HTTPStore(config: config ?? self.config(), logger: Logger(label: "s3http.tests"))
    }

    static func randomPrefix() -> String {
        "s3http-tests/\(UInt64.random(in: 0..<UInt64.max))/"
    }

    /// Uploads `objects` (key → bytes) with boto3 in 32 threads; returns each key's ETag as the server gave it.
    static func upload(_ objects: [String: [UInt8]]) async throws -> [String: String] {
        let payload = objects.map { ["key": $0.key, "data": Data($0.value).base64EncodedString()] }
        let output = try await runPython(uploadScript, input: try JSONSerialization.data(withJSONObject: payload))
        return try JSONSerialization.jsonObject(with: output) as? [String: String] ?? [:]
    }

    /// Deletes every object under `prefix` (best effort, for cleanup).
    static func deleteAll(prefix: String) async {
        _ = try? await runPython(deleteScript, input: Data(prefix.utf8))
    }

    private static let botoSetup = """
        import base64, json, os, sys, boto3
        from concurrent.futures import ThreadPoolExecutor
        from botocore.config import Config
        s3 = boto3.client("s3", endpoint_url=os.environ["S3_TEST_ENDPOINT"], region_name="us-east-1",
                          config=Config(max_pool_connections=32))
        bucket = os.environ.get("S3_BUCKET", "test")

        """

    private static let uploadScript = botoSetup + """
        def put(item):
            r = s3.put_object(Bucket=bucket, Key=item["key"], Body=base64.b64decode(item["data"]))
            return item["key"], r["ETag"]
        with ThreadPoolExecutor(32) as pool:
            print(json.dumps(dict(pool.map(put, json.load(sys.stdin)))))
        """

    private static let deleteScript = botoSetup + """
        prefix = sys.stdin.read()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        """

    /// Runs a Python script without blocking the caller's thread (stdin and stdout go through temporary files,
    /// so no pipe can fill up); returns stdout, throws on a non-zero exit.
    static func runPython(_ script: String, input: Data) async throws -> Data {
        let directory = FileManager.default.temporaryDirectory
        let inputURL = directory.appendingPathComponent("s3http-\(UUID().uuidString).in")
        let outputURL = directory.appendingPathComponent("s3http-\(UUID().uuidString).out")
        defer {
            try? FileManager.default.removeItem(at: inputURL)
            try? FileManager.default.removeItem(at: outputURL)
        }
        try input.write(to: inputURL)
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
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
