// What a profile's settings say about credentials, following source_profile links: role_arn (with
// source_profile or web_identity_token_file) wins, then credential_process, then aws_access_key_id +
// aws_secret_access_key. A source profile that has its own keys is used for them (so `source_profile = self`
// works, as in the SDKs); one without keys is followed further. A loop is an error naming the profiles in it.

struct ProfileCredentialResolver {
    let files: ProfileFiles

    /// The source `name` configures; nil when its section has no credential settings (the chain goes on).
    func resolve(_ name: String) throws(CredentialError) -> CredentialSourceConfig? {
        try resolve(name, visited: [])
    }

    private func resolve(_ name: String, visited: [String]) throws(CredentialError) -> CredentialSourceConfig? {
        guard let section = files.profile(name) else { return nil }
        let label = "profile \(name)"
        if let roleARN = section["role_arn"] {
            return try assumeRole(name, roleARN: roleARN, section: section, visited: visited + [name])
        }
        if let command = section["credential_process"], !command.isEmpty {
            return .process(profile: name, command: command)
        }
        if let keys = try keys(section, label: label) {
            return .keys(keys, source: "\(label) in \(files.keysLocation(name))")
        }
        if let unsupported = ["sso_session", "sso_start_url", "credential_source"].first(where: { section[$0] != nil }) {
            throw CredentialError(
                description: "\(label) in \(files.configPath) uses \(unsupported), which s3mount does not support; "
                    + "use source_profile, credential_process or keys, or export AWS_ACCESS_KEY_ID/"
                    + "AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN (e.g. with `aws configure export-credentials --format env`)")
        }
        return nil
    }

    private func assumeRole(_ name: String, roleARN: String, section: [String: String], visited: [String])
        throws(CredentialError) -> CredentialSourceConfig
    {
        let label = "profile \(name)"
        let sessionName = section["role_session_name"] ?? AWSEnvironmentResolver.defaultSessionName()
        if let tokenFile = section["web_identity_token_file"] {
            return .webIdentity(tokenFile: tokenFile, roleARN: roleARN, sessionName: sessionName)
        }
        guard let sourceName = section["source_profile"], !sourceName.isEmpty else {
            throw CredentialError(
                description: "\(label) has role_arn but no source_profile; add source_profile = PROFILE (whose "
                    + "credentials sign AssumeRole) to it in \(files.configPath)")
        }
        var durationSeconds: Int?
        if let text = section["duration_seconds"] {
            guard let value = Int(text), (900...43_200).contains(value) else {
                throw CredentialError(description: "\(label): duration_seconds \"\(text)\" must be 900 to 43200")
            }
            durationSeconds = value
        }
        let source: CredentialSourceConfig
        if let sourceSection = files.profile(sourceName), let keys = try keys(sourceSection, label: "profile \(sourceName)") {
            source = .keys(keys, source: "profile \(sourceName) in \(files.keysLocation(sourceName))")
        } else if visited.contains(sourceName) {
            throw CredentialError(
                description: "profiles \((visited + [sourceName]).joined(separator: " -> ")) form a source_profile "
                    + "loop; end the chain at a profile with keys or credential_process")
        } else if let resolved = try resolve(sourceName, visited: visited) {
            source = resolved
        } else {
            throw CredentialError(
                description: "\(label): source_profile \(sourceName) "
                    + (files.profile(sourceName) == nil ? "does not exist" : "has no credentials")
                    + " in \(files.credentialsPath) or \(files.configPath)")
        }
        return .assumeRole(
            profile: name, roleARN: roleARN, sessionName: sessionName, externalID: section["external_id"],
            durationSeconds: durationSeconds, source: source)
    }

    /// The section's static keys; nil when it has none, an error when it has only half of them.
    private func keys(_ section: [String: String], label: String) throws(CredentialError) -> S3Credentials? {
        let id = section["aws_access_key_id"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = section["aws_secret_access_key"].flatMap { $0.isEmpty ? nil : $0 }
        switch (id, secret) {
        case (let id?, let secret?):
            return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: section["aws_session_token"])
        case (nil, nil):
            return nil
        default:
            throw CredentialError(description: "\(label) needs both aws_access_key_id and aws_secret_access_key")
        }
    }
}
