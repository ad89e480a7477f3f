// The JSON credential documents of the container endpoint, the instance metadata service and credential_process:
// {"AccessKeyId": …, "SecretAccessKey": …, "Token" (or "SessionToken"): …, "Expiration": "2026-11-30T12:00:00Z"}.
// Errors name the source and the missing field, never a value: the document holds secrets.

import Foundation

enum CredentialDocument {
    /// Reads `data` from `source`. `tokenField` is "Token" (container, IMDS) or "SessionToken" (credential_process);
    /// without `expirationRequired` a missing Expiration means credentials that do not expire.
    static func parse(_ data: [UInt8], source: String, tokenField: String, expirationRequired: Bool) throws(
        CredentialError
    ) -> S3Credentials {
        guard let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else {
            throw CredentialError(description: "\(source) did not answer a JSON object")
        }
        func text(_ field: String) -> String? {
            (object[field] as? String).flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let accessKeyID = text("AccessKeyId"), let secret = text("SecretAccessKey") else {
            throw CredentialError(description: "\(source) answered without AccessKeyId and SecretAccessKey")
        }
        var expiration: Double?
        if let stamp = text("Expiration") {
            // "+00:00" is how many JSON writers (Python's isoformat) spell UTC.
            let utc = stamp.hasSuffix("+00:00") ? String(stamp.dropLast(6)) + "Z" : stamp
            guard let seconds = Timestamps.parseISO8601(utc) else {
                throw CredentialError(description: "\(source) answered an Expiration that is not an ISO 8601 time")
            }
            expiration = seconds
        } else if expirationRequired {
            throw CredentialError(description: "\(source) answered without Expiration")
        }
        return S3Credentials(
            accessKeyID: accessKeyID, secretAccessKey: secret, sessionToken: text(tokenField), expiration: expiration)
    }
}
