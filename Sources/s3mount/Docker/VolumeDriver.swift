// VolumeDriver: one request of Docker's v1 VolumeDriver protocol in, one JSON answer out. Every endpoint is a
// POST of a JSON object (Name, Opts, ID as the endpoint needs; dockerd sends `null` where it has nothing) and
// answers a JSON object; a refusal is {"Err": "…"} with status 500, which dockerd shows to the user.
import Foundation
import Logging

final class VolumeDriver {
    /// What dockerd sends: Name and Opts to Create, Name and ID to Mount and Unmount, Name to the others.
    private struct Request: Decodable {
        var name: String?
        var opts: [String: String]?
        var id: String?

        enum CodingKeys: String, CodingKey {
            case name = "Name", opts = "Opts", id = "ID"
        }
    }

    static let contentType = "application/vnd.docker.plugins.v1+json"

    private let catalog: VolumeCatalog
    private let mounts: VolumeMounts
    private let logger: Logger

    init(catalog: VolumeCatalog, mounts: VolumeMounts, logger: Logger) {
        self.catalog = catalog
        self.mounts = mounts
        self.logger = logger
    }

    /// Reads one request from `connection` and writes the answer.
    func answer(_ connection: Int32) {
        guard let request = HTTPRequest.read(connection, limit: 1 << 20) else { return }
        let response: [UInt8]
        if request.isChunked {
            response = HTTPRequest.response(status: "411 Length Required", type: "text/plain", body: Array("send Content-Length\n".utf8))
        } else if request.method != "POST" {
            response = HTTPRequest.response(status: "405 Method Not Allowed", type: "text/plain", body: Array("POST only\n".utf8))
        } else {
            let (status, document) = handle(request.path, body: request.body)
            let body = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            response = HTTPRequest.response(status: status, type: Self.contentType, body: Array(body))
        }
        _ = Sockets.writeAll(connection, response)
    }

    /// The HTTP status and JSON object answering `path`.
    func handle(_ path: String, body: [UInt8]) -> (String, [String: Any]) {
        do {
            let request = try decode(body)
            switch path {
            case "/Plugin.Activate": return ("200 OK", ["Implements": ["VolumeDriver"]])
            case "/VolumeDriver.Capabilities": return ("200 OK", ["Capabilities": ["Scope": "local"]])
            case "/VolumeDriver.Create": try create(try volumeName(request), options: request.opts ?? [:])
            case "/VolumeDriver.Remove": try remove(try known(request))
            case "/VolumeDriver.Mount":
                let name = try known(request)
                let mountpoint = try mounts.mount(name, id: try id(request), options: catalog.volumes[name]?.options ?? [:])
                return ("200 OK", ["Mountpoint": mountpoint, "Err": ""])
            case "/VolumeDriver.Unmount": try mounts.unmount(try known(request), id: try id(request))
            case "/VolumeDriver.Path":
                let name = try known(request)
                return ("200 OK", ["Mountpoint": mounts.mountpoint(of: name) ?? "", "Err": ""])
            case "/VolumeDriver.Get":
                let name = try known(request)
                return ("200 OK", ["Volume": describe(name, detailed: true), "Err": ""])
            case "/VolumeDriver.List": return ("200 OK", ["Volumes": catalog.volumes.keys.sorted().map { describe($0, detailed: false) }, "Err": ""])
            default: return ("404 Not Found", ["Err": "unknown endpoint \(path)"])
            }
            return ("200 OK", ["Err": ""])
        } catch {
            logger.notice("refused", metadata: ["request": "\(path)", "reason": "\(error)"])
            return ("500 Internal Server Error", ["Err": "\(error)"])
        }
    }

    private func create(_ name: String, options: [String: String]) throws(PluginError) {
        if let existing = catalog.volumes[name] {
            // dockerd creates again a volume it already has, with or without its options.
            guard options.isEmpty || options == existing.options else {
                throw PluginError("volume \(name) exists with other options: remove it first, or pick another name")
            }
            return
        }
        _ = try VolumeOptions.command(options, mountpoint: catalog.layout.mountpoint(name), cacheDirectory: catalog.layout.cacheDirectory(name))
        try catalog.add(name, options: options)
        logger.notice("created volume", metadata: ["volume": "\(name)", "bucket": "\(options["bucket"] ?? "")"])
    }

    private func remove(_ name: String) throws(PluginError) {
        try mounts.release(name)
        try catalog.remove(name)
        VolumeDirectory.remove(catalog.layout, name, logger: logger)
        logger.notice("removed volume", metadata: ["volume": "\(name)"])
    }

    /// A volume as Get and List show it: its mountpoint while mounted; with Get, its options and users too.
    private func describe(_ name: String, detailed: Bool) -> [String: Any] {
        var volume: [String: Any] = ["Name": name]
        let mountpoint = mounts.mountpoint(of: name)
        if let mountpoint { volume["Mountpoint"] = mountpoint }
        if detailed, let record = catalog.volumes[name] {
            volume["CreatedAt"] = record.createdAt
            volume["Status"] = ["options": record.options, "mounted": mountpoint != nil, "containers": mounts.containers(of: name)] as [String: Any]
        }
        return volume
    }

    private func decode(_ body: [UInt8]) throws(PluginError) -> Request {
        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty || text == "null" { return Request() }
        do {
            return try JSONDecoder().decode(Request.self, from: Data(body))
        } catch {
            throw PluginError("the request body is not the JSON object this endpoint takes: \(error)")
        }
    }

    private func volumeName(_ request: Request) throws(PluginError) -> String {
        guard let name = request.name, !name.isEmpty else { throw PluginError("the request names no volume (Name)") }
        guard Self.isVolumeName(name) else {
            throw PluginError("invalid volume name \(name): use letters, digits and _ . - (starting with a letter or digit)")
        }
        return name
    }

    /// Docker's own rule for volume names, [A-Za-z0-9][A-Za-z0-9_.-]*; it also keeps a name one path component.
    static func isVolumeName(_ name: String) -> Bool {
        let allowed = { (c: UInt8) in (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
        let bytes = Array(name.utf8)
        return (1...255).contains(bytes.count) && allowed(bytes[0])
            && bytes.allSatisfy { allowed($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private func known(_ request: Request) throws(PluginError) -> String {
        let name = try volumeName(request)
        guard catalog.volumes[name] != nil else { throw PluginError("no such volume: \(name)") }
        return name
    }

    private func id(_ request: Request) throws(PluginError) -> String {
        guard let id = request.id, !id.isEmpty else { throw PluginError("the request names no container (ID)") }
        return id
    }
}
