// Shared setup for the tests against a real S3 server (Ceph RGW in CI): endpoint, keys and bucket come from
// S3_TEST_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and S3_BUCKET. Each test writes its own objects
// under a random prefix with boto3 (run as a child process), so the store under test only ever reads.

import Foundation
import Logging
import ObjectStore
import S3FSTesting
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

    /// Uploads `objects` (key → bytes) with boto3 in 32 threads (see BotoFixtures); returns each key's ETag as the
    /// server gave it.
    static func upload(_ objects: [String: [UInt8]]) async throws -> [String: String] {
        let items = objects.map { (key: $0.key, bytes: $0.value) }
        let etags = try await BotoFixtures(endpoint: endpoint, bucket: bucket).upload(items)
        return Dictionary(uniqueKeysWithValues: zip(items.map(\.key), etags))
    }

    /// Deletes every object under `prefix` (best effort, for cleanup).
    static func deleteAll(prefix: String) async {
        await BotoFixtures(endpoint: endpoint, bucket: bucket).deleteAll(prefix: prefix)
    }
}
