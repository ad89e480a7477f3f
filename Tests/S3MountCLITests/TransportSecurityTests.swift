import Foundation
import S3HTTP
import Testing

@testable import s3mount

/// The mount-time TLS rules: which configurations warn (and about what), which hosts count as this machine, and
/// a CA bundle that cannot be read failing before any request.
@Suite struct TransportSecurityTests {
    static let keys = S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret")

    static func config(_ endpoint: String?, credentials: S3Credentials? = keys, verify: Bool = true, caBundle: String? = nil)
        -> S3HTTPConfig
    {
        S3HTTPConfig(bucket: "b", region: "us-east-1", endpoint: endpoint, credentials: credentials, tlsVerify: verify, caBundle: caBundle)
    }

    @Test(arguments: [
        "http://127.0.0.1:7480", "http://127.9.8.7", "http://localhost:7480", "http://LOCALHOST", "http://[::1]:7480",
        "http://[::ffff:127.0.0.1]:7480",
    ])
    func loopbackHosts(endpoint: String) {
        #expect(TransportSecurity.isLoopback(Self.config(endpoint)))
        #expect(TransportSecurity.warnings(for: [Self.config(endpoint)]).isEmpty)
    }

    @Test(arguments: [
        "http://10.0.0.5:7480", "http://s3.example.com", "http://128.0.0.1", "http://[::2]:7480",
        "http://localhost.example.com", "http://[::ffff:10.0.0.1]",
    ])
    func signedPlainHTTPOffThisMachineWarnsOnce(endpoint: String) throws {
        #expect(!TransportSecurity.isLoopback(Self.config(endpoint)))
        let lines = TransportSecurity.warnings(for: [Self.config(endpoint), Self.config("http://127.0.0.1:1")])
        let line = try #require(lines.count == 1 ? lines[0] : nil)
        #expect(line.hasPrefix("plain http:// to \(endpoint): "))
        #expect(line.contains("clear text") && line.contains("use https://"))
    }

    @Test func unsignedPlainHTTPAndHTTPSDoNotWarn() {
        #expect(TransportSecurity.warnings(for: [Self.config("http://s3.example.com", credentials: nil)]).isEmpty)
        #expect(TransportSecurity.warnings(for: [Self.config("https://s3.example.com"), Self.config(nil)]).isEmpty)
    }

    @Test func skippingVerificationWarnsForHTTPSEndpointsOnly() throws {
        let lines = TransportSecurity.warnings(for: [
            Self.config("https://127.0.0.1:7443", verify: false), Self.config("http://127.0.0.1:7480", verify: false),
        ])
        let line = try #require(lines.count == 1 ? lines[0] : nil)
        #expect(line.hasPrefix("TLS certificates are not verified (--insecure-skip-tls-verify) for https://127.0.0.1:7443: "))
        #expect(line.contains("pose as the server"))
        #expect(TransportSecurity.warnings(for: [Self.config("http://127.0.0.1:7480", verify: false)]).isEmpty)
    }

    @Test func anUnreadableCABundleFailsTheMountNamingItsSource() {
        let missing = "/nonexistent-s3mount-ca-\(UUID()).pem"
        #expect {
            try TransportSecurity.checkCABundle(of: [Self.config("https://h", caBundle: missing)], source: "AWS_CA_BUNDLE")
        } throws: { error in
            "\(error)" == "cannot read the CA bundle \(missing) (from AWS_CA_BUNDLE): No such file or directory; give a readable PEM file of CA certificates"
        }
        // not used, so not checked: verification off, or no https endpoint
        #expect(throws: Never.self) {
            try TransportSecurity.checkCABundle(of: [Self.config("https://h", verify: false, caBundle: missing)], source: "--ca-bundle")
            try TransportSecurity.checkCABundle(of: [Self.config("http://h", caBundle: missing)], source: "--ca-bundle")
        }
    }

    @Test func aRefusedCertificateNamesTheCAsAndTheFix() {
        let wrongCA = MountFailure.certificateRefused(
            endpoint: "https://127.0.0.1:7443", detail: "SSL certificate problem: unable to get local issuer certificate (curl 60)",
            caBundle: nil)
        #expect(wrongCA.description.hasPrefix("TLS verification of https://127.0.0.1:7443's certificate failed ("))
        #expect(wrongCA.description.contains("checked against the system's CAs"))
        #expect(wrongCA.description.hasSuffix("--ca-bundle FILE or AWS_CA_BUNDLE=FILE"))
        let wrongName = MountFailure.certificateRefused(
            endpoint: "https://127.0.0.2:7443",
            detail: "SSL: no alternative certificate subject name matches target host name '127.0.0.2' (curl 60)",
            caBundle: "/ca.pem")
        #expect(wrongName.description.contains("checked against CAs from /ca.pem"))
        #expect(wrongName.description.hasSuffix("give --endpoint the host name or address the certificate was issued for"))
    }
}
