/// How a read begins: answered at once from memory, or with bytes still on their way. The FUSE bridge replies to
/// a ready read on the thread that received it, and only runs a task for one that has to wait.
public enum ReadStart: Sendable {
    case ready(ReadData)
    case waiting(PendingRead)
}

/// The rest of a read that has to wait for S3 (or the staging disk).
public struct PendingRead: Sendable {
    private let body: @Sendable () async throws(FSError) -> ReadData

    init(_ body: @escaping @Sendable () async throws(FSError) -> ReadData) {
        self.body = body
    }

    public func finish() async throws(FSError) -> ReadData {
        try await body()
    }
}
