// The real S3 server the core is tested against (Ceph RGW in CI): endpoint, keys and bucket from S3_TEST_ENDPOINT
// (or AWS_ENDPOINT_URL), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and S3_BUCKET. Each test writes its objects
// under its own random prefix with boto3 in a child process and mounts that prefix; only loopback is contacted.
import Foundation
import Logging
import ObjectStore
import S3FSTesting
import S3HTTP

enum RealServer {
    static let environment = ProcessInfo.processInfo.environment
    /// Gate for `.enabled(if:)`; CI always sets it.
    static let isConfigured = environment["S3_TEST_ENDPOINT"] != nil
    static var endpoint: String { environment["S3_TEST_ENDPOINT"] ?? environment["AWS_ENDPOINT_URL"] ?? "" }
    static var bucket: String { environment["S3_BUCKET"] ?? "test" }

    static func store(bucket: String? = nil) throws -> S3HTTPStore {
        guard URL(string: endpoint)?.host == "127.0.0.1" else { throw BotoFixtures.NotLoopback(endpoint: endpoint) }
        let credentials = S3Credentials(
            accessKeyID: environment["AWS_ACCESS_KEY_ID"] ?? "",
            secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"] ?? "")
        let config = S3HTTPConfig(
            bucket: bucket ?? self.bucket, endpoint: endpoint, credentials: credentials, connectTimeout: 2)
        let logger = Logger(label: "s3fscore.tests") { _ in SwiftLogNoOpLogHandler() }
        return try S3HTTPStore(config: config, logger: logger)
    }

    static func randomPrefix() -> String { "s3fscore-tests/\(UInt64.random(in: 0..<UInt64.max))/" }

    static var fixtures: BotoFixtures { BotoFixtures(endpoint: endpoint, bucket: bucket) }

    /// Uploads `objects` (key, bytes) with boto3 (see BotoFixtures).
    static func upload(_ objects: [(key: String, bytes: [UInt8])]) async throws {
        _ = try await fixtures.upload(objects)
    }

    /// Deletes every object under `prefix` (best effort, for cleanup).
    static func deleteAll(prefix: String) async {
        await fixtures.deleteAll(prefix: prefix)
    }
}
