// Matching thrown ObjectStoreErrors by kind only (status, message and request id vary by server).

import ObjectStore

enum Kinds: Equatable {
    case service(ServiceError.Kind)
    case client(ClientError.Kind)
    case noError
    /// Not an ObjectStoreError at all.
    case other(String)

    /// The kind of error `body` throws, or `.noError`.
    static func of(_ body: () async throws -> Void) async -> Kinds {
        do {
            try await body()
            return .noError
        } catch let error as ObjectStoreError {
            switch error {
            case .service(let e): return .service(e.kind)
            case .client(let e): return .client(e.kind)
            }
        } catch {
            return .other("\(error)")
        }
    }
}
