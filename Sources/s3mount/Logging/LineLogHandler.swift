import Foundation
import Logging

/// One line per event: `2026-11-26T10:00:00.123Z notice [fuse.op=read] message`, written to a LogSink.
struct LineLogHandler: LogHandler {
    let label: String
    let sink: LogSink
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let timestamp = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        let prefix = sink.isSyslog ? "" : "\(timestamp) \(event.level) "
        sink.write("\(prefix)\(event.message)\(fields.isEmpty ? "" : " " + fields)", level: event.level)
    }
}

extension LogSink {
    var isSyslog: Bool { if case .syslog = self { true } else { false } }
}
