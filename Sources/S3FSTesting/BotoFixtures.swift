// BotoFixtures: how tests against a real S3 server put their objects there and take them away — boto3 in a child
// process, so the store under test only ever reads. Only a loopback endpoint is accepted. stdin and stdout go
// through temporary files, so no pipe can fill up, and the caller's thread never blocks.
import Foundation

public struct BotoFixtures: Sendable {
    public let endpoint: String
    public let bucket: String

    public init(endpoint: String, bucket: String) {
        self.endpoint = endpoint
        self.bucket = bucket
    }

    public struct NotLoopback: Error, CustomStringConvertible {
        public var endpoint: String
        public init(endpoint: String) { self.endpoint = endpoint }
        public var description: String { "refusing to test against \(endpoint): only 127.0.0.1 may be contacted" }
    }

    public struct ScriptError: Error {
        public var status: Int32
    }

    /// Uploads `objects` (key, bytes) in 32 threads; returns the ETags the server gave, in the same order. A list,
    /// not a dictionary: Swift's String equality would merge keys that differ only in Unicode normalization.
    public func upload(_ objects: [(key: String, bytes: [UInt8])]) async throws -> [String] {
        let payload = objects.map { ["key": $0.key, "data": Data($0.bytes).base64EncodedString()] }
        let output = try await runPython(Self.uploadScript, input: try JSONSerialization.data(withJSONObject: payload))
        return try JSONSerialization.jsonObject(with: output) as? [String] ?? []
    }

    /// Deletes every object under `prefix` (best effort, for cleanup).
    public func deleteAll(prefix: String) async {
        _ = try? await runPython(Self.deleteScript, input: Data(prefix.utf8))
    }

    private static let botoSetup = """
        import base64, json, os, sys, boto3
        from concurrent.futures import ThreadPoolExecutor
        from botocore.config import Config
        s3 = boto3.client("s3", endpoint_url=os.environ["BOTO_FIXTURES_ENDPOINT"], region_name="us-east-1",
                          config=Config(max_pool_connections=32))
        bucket = os.environ["BOTO_FIXTURES_BUCKET"]

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

    private func runPython(_ script: String, input: Data) async throws -> Data {
        guard URL(string: endpoint)?.host == "127.0.0.1" else { throw NotLoopback(endpoint: endpoint) }
        let directory = FileManager.default.temporaryDirectory
        let inputURL = directory.appendingPathComponent("boto-fixtures-\(UUID().uuidString).in")
        let outputURL = directory.appendingPathComponent("boto-fixtures-\(UUID().uuidString).out")
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
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["BOTO_FIXTURES_ENDPOINT": endpoint, "BOTO_FIXTURES_BUCKET": bucket]) { _, new in new }
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
}
