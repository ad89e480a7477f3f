// MockObjectStore's writes: PutObject with If-Match / If-None-Match, DeleteObject, CopyObject and multipart
// uploads, each recorded as a call and answering as S3 does (412 on a failed condition, NoSuchUpload for an
// upload that ended). File bodies are read when the call is made, as a real store streams them.
import Foundation
import ObjectStore

extension MockObjectStore {
    public func put(key: String, body: UploadBody, condition: WriteCondition) async throws(ObjectStoreError) -> ETag {
        let bytes = try Self.read(body)
        return try withBucket { (bucket: inout MockBucket, _) throws(ObjectStoreError) -> ETag in
            bucket.calls.append(.put(key: key, size: body.count, condition: condition))
            try Self.check(condition, against: bucket.object(key)?.info)
            return bucket.put(key, bytes, lastModified: nil).etag
        }
    }

    public func delete(key: String) async throws(ObjectStoreError) {
        withBucket { bucket, _ in
            bucket.calls.append(.delete(key: key))
            bucket.delete(key)
        }
    }

    public func copy(from source: String, to key: String, sourceETag: ETag?) async throws(ObjectStoreError) -> ETag {
        try withBucket { (bucket: inout MockBucket, _) throws(ObjectStoreError) -> ETag in
            bucket.calls.append(.copy(source: source, key: key))
            let bytes = try bucket.read(source, range: nil, ifMatch: sourceETag)
            return bucket.put(key, bytes, lastModified: nil).etag
        }
    }

    public func createMultipartUpload(key: String) async throws(ObjectStoreError) -> MultipartUploadID {
        withBucket { bucket, multipart in
            bucket.calls.append(.createMultipartUpload(key: key))
            return multipart.create(key: key, now: Date().timeIntervalSince1970)
        }
    }

    public func uploadPart(key: String, upload: MultipartUploadID, number: Int, body: UploadBody)
        async throws(ObjectStoreError) -> ETag
    {
        let bytes = try Self.read(body)
        return try withBucket { (bucket: inout MockBucket, multipart: inout MockMultipart) throws(ObjectStoreError) -> ETag in
            bucket.calls.append(.uploadPart(key: key, number: number, size: body.count))
            return try multipart.addPart(upload, key: key, number: number, bytes: bytes)
        }
    }

    public func uploadPartCopy(
        key: String, upload: MultipartUploadID, number: Int, source: String, range: ByteRange, sourceETag: ETag?
    ) async throws(ObjectStoreError) -> ETag {
        try withBucket { (bucket: inout MockBucket, multipart: inout MockMultipart) throws(ObjectStoreError) -> ETag in
            bucket.calls.append(.uploadPartCopy(key: key, number: number, source: source, range: range))
            let bytes = try bucket.read(source, range: range, ifMatch: sourceETag)
            return try multipart.addPart(upload, key: key, number: number, bytes: bytes)
        }
    }

    public func completeMultipartUpload(key: String, upload: MultipartUploadID, parts: [CompletedPart])
        async throws(ObjectStoreError) -> ETag?
    {
        try withBucket { (bucket: inout MockBucket, multipart: inout MockMultipart) throws(ObjectStoreError) -> ETag? in
            bucket.calls.append(.completeMultipartUpload(key: key, parts: parts.count))
            let bytes = try multipart.complete(upload, key: key, parts: parts)
            return bucket.put(key, bytes, lastModified: nil).etag
        }
    }

    public func abortMultipartUpload(key: String, upload: MultipartUploadID) async throws(ObjectStoreError) {
        withBucket { bucket, multipart in
            bucket.calls.append(.abortMultipartUpload(key: key))
            multipart.abort(upload)
        }
    }

    public func listMultipartUploads(prefix: String) async throws(ObjectStoreError) -> [MultipartUploadInfo] {
        withBucket { bucket, multipart in
            bucket.calls.append(.listMultipartUploads(prefix: prefix))
            return multipart.list(prefix: prefix)
        }
    }

    private static func check(_ condition: WriteCondition, against current: ObjectInfo?) throws(ObjectStoreError) {
        switch condition {
        case .unconditional: return
        case .ifMatch(let etag): if current?.etag != etag { throw .stub(.preconditionFailed) }
        case .ifNoneMatch: if current != nil { throw .stub(.preconditionFailed) }
        }
    }

    static func read(_ body: UploadBody) throws(ObjectStoreError) -> [UInt8] {
        switch body {
        case .bytes(let bytes):
            return bytes
        case .file(let path, let offset, let length):
            guard let handle = FileHandle(forReadingAtPath: path) else { throw .stub(ServiceError.Kind.other) }
            defer { try? handle.close() }
            do {
                try handle.seek(toOffset: offset)
                let data = try handle.read(upToCount: Int(length)) ?? Data()
                guard data.count == Int(length) else { throw ObjectStoreError.stub(.truncatedBody) }
                return [UInt8](data)
            } catch {
                throw .stub(.truncatedBody)
            }
        }
    }
}
