/// Receives the body of a GET as it arrives, so a reader can be answered before the whole range is in and the
/// bytes are written once, where they will be served from.
public protocol ByteSink: AnyObject, Sendable {
    /// The next bytes of the body, in order, called from the store's I/O thread. Must not block.
    func receive(_ chunk: UnsafeRawBufferPointer)
}

extension ObjectStore {
    /// Stores that cannot stream deliver the body in one chunk.
    public func get(key: String, range: ByteRange?, ifMatch: ETag?, into sink: any ByteSink) async throws(ObjectStoreError) {
        let bytes = try await get(key: key, range: range, ifMatch: ifMatch)
        bytes.withUnsafeBytes { sink.receive($0) }
    }
}
