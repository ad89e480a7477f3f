// The two shared profile files, loaded once: ~/.aws/credentials (sections named by the profile) and ~/.aws/config
// (`[profile NAME]`, or `[default]`). A profile's settings are the config file's overlaid by the credentials
// file's, key by key, as in the SDKs.

import Foundation

struct ProfileFiles: Sendable {
    let credentialsPath: String
    let configPath: String
    private let credentials: INIFile?
    private let config: INIFile?

    init(environment env: [String: String], homeDirectory: String) throws(CredentialError) {
        credentialsPath = Self.expand(env["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", home: homeDirectory)
        configPath = Self.expand(env["AWS_CONFIG_FILE"] ?? "~/.aws/config", home: homeDirectory)
        credentials = try Self.load(credentialsPath)
        config = try Self.load(configPath)
    }

    /// The profile's section in the config file.
    func configSection(_ name: String) -> [String: String]? {
        config.flatMap { file in (name == "default" ? file.sections["default"] : nil) ?? file.sections["profile \(name)"] }
    }

    /// The profile's settings from both files; nil when neither has it.
    func profile(_ name: String) -> [String: String]? {
        let fromCredentials = credentials?.sections[name]
        let fromConfig = configSection(name)
        guard fromCredentials != nil || fromConfig != nil else { return nil }
        return (fromConfig ?? [:]).merging(fromCredentials ?? [:]) { _, credentialsValue in credentialsValue }
    }

    /// Which file holds the profile's static keys, for messages ("profile dev in /home/u/.aws/credentials").
    func keysLocation(_ name: String) -> String {
        credentials?.sections[name]?["aws_access_key_id"] != nil ? credentialsPath : configPath
    }

    private static func load(_ path: String) throws(CredentialError) -> INIFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CredentialError(description: "cannot read \(path); check its permissions")
        }
        do {
            return try INIFile(parsing: String(decoding: data, as: UTF8.self))
        } catch {
            throw CredentialError(description: "\(path) line \(error.line): \(error.reason)")
        }
    }

    private static func expand(_ path: String, home: String) -> String {
        path == "~" ? home : path.hasPrefix("~/") ? home + path.dropFirst(1) : path
    }
}
