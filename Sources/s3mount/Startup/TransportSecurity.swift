// TransportSecurity: what the mount tells the operator, at mount time, about how its traffic to S3 is protected.
// A CA bundle that cannot be read fails the mount (one line, before any request). Turning certificate
// verification off, or sending signed requests over plain http:// to a host off this machine, each log one
// warning naming the risk. The rule for http://: loopback hosts (127.0.0.0/8, ::1, localhost) are not warned
// about, because those bytes never leave the machine; every other host is, whatever network it is on.
import Foundation
import Glibc
import S3HTTP

enum TransportSecurity {
    /// Fails when certificates will be verified against a CA bundle that cannot be read. `source` names where the
    /// path came from (--ca-bundle, AWS_CA_BUNDLE, the profile), so the operator knows what to fix.
    static func checkCABundle(of configs: [S3HTTPConfig], source: String) throws(MountFailure) {
        guard let config = configs.first(where: { $0.tlsVerify && $0.usesTLS }), let path = config.caBundle else { return }
        let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw MountFailure(
                "cannot read the CA bundle \(path) (from \(source)): \(MountpointCheck.describe(errno)); give a readable PEM file of CA certificates")
        }
        close(fd)
    }

    /// One line per risk the configuration takes, for the log (empty when there is none).
    static func warnings(for configs: [S3HTTPConfig]) -> [String] {
        var lines: [String] = []
        let unverified = configs.filter { !$0.tlsVerify && $0.usesTLS }.map(\.endpointDescription)
        if !unverified.isEmpty {
            lines.append(
                "TLS certificates are not verified (--insecure-skip-tls-verify) for \(unverified.joined(separator: ", ")): anyone on the network path can pose as the server, read the data and change what is read; use it only with test servers, and give a private CA with --ca-bundle instead")
        }
        let cleartext = configs.filter { $0.signsRequests && !$0.usesTLS && !isLoopback($0) }.map(\.endpointDescription)
        if !cleartext.isEmpty {
            lines.append(
                "plain http:// to \(cleartext.joined(separator: ", ")): the access key ID, any session token and all data travel in clear text, and what is read could be altered on the way (signatures keep the secret key off the wire and requests unaltered); use https://")
        }
        return lines
    }

    /// Whether the endpoint's host is this machine: 127.0.0.0/8, ::1 (also as ::ffff:127.x.x.x) or localhost.
    static func isLoopback(_ config: S3HTTPConfig) -> Bool {
        guard let endpoint = config.endpoint, var host = URLComponents(string: endpoint)?.host?.lowercased() else {
            return false
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { return true }
        var v4 = in_addr()
        if unsafe inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard unsafe inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        let bytes = unsafe withUnsafeBytes(of: v6) { unsafe Array($0) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        return bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
    }
}

extension S3HTTPConfig {
    /// Requests go over https (an https:// endpoint, or AWS's own).
    var usesTLS: Bool { endpoint.map { $0.lowercased().hasPrefix("https://") } ?? true }
}
