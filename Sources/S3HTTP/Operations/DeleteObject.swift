// DeleteObject. S3 answers 204 whether or not the key existed; a server answering 404 NoSuchKey instead is
// treated the same way, so deleting a missing key always succeeds.

import ObjectStore

extension S3HTTPStore {
    public func delete(key: String) async throws(ObjectStoreError) {
        do {
            _ = try await sendExpectingSuccess(.delete, key: key)
        } catch {
            if case .service(let service) = error, service.kind == .noSuchKey { return }
            throw error
        }
    }
}
