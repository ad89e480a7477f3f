// VolumeCatalog: the plugin's volumes (name and options), kept in STATE/volumes.json so that they survive a
// restart of the plugin. Each change rewrites the whole file atomically (AtomicFile): a crash leaves the old list
// or the new one, never half of either. A file that cannot be read stops the plugin with its path, rather than
// serving an empty list that would make Docker forget volumes. Mount counts are not kept here (VolumeMounts).
import Foundation

final class VolumeCatalog {
    struct Volume: Codable, Equatable {
        var options: [String: String]
        var createdAt: String
    }

    private struct Document: Codable {
        var volumes: [String: Volume]
    }

    let layout: PluginLayout
    private(set) var volumes: [String: Volume]

    init(layout: PluginLayout) throws(PluginError) {
        self.layout = layout
        do {
            try PluginLayout.makeDirectories(layout.stateDirectory, mode: 0o700)
        } catch {
            throw PluginError("\(error); give another --state-dir")
        }
        guard let data = FileManager.default.contents(atPath: layout.catalogFile) else {
            volumes = [:]
            return
        }
        do {
            volumes = try JSONDecoder().decode(Document.self, from: data).volumes
        } catch {
            throw PluginError("cannot read the volume list \(layout.catalogFile): \(error); fix or move the file")
        }
    }

    func add(_ name: String, options: [String: String]) throws(PluginError) {
        let createdAt = Date().formatted(.iso8601)
        try save(volumes.merging([name: Volume(options: options, createdAt: createdAt)]) { _, new in new })
    }

    func remove(_ name: String) throws(PluginError) {
        var remaining = volumes
        remaining[name] = nil
        try save(remaining)
    }

    /// Writes the list, and only then takes it as the current one.
    private func save(_ list: [String: Volume]) throws(PluginError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try AtomicFile.write(try encoder.encode(Document(volumes: list)), to: layout.catalogFile)
        } catch {
            throw PluginError("cannot save the volume list: \(error)")
        }
        volumes = list
    }
}
