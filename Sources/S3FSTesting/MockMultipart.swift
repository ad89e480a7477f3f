// Multipart uploads in MockObjectStore: parts kept per upload id until complete or abort, as S3 keeps them.
import ObjectStore

struct MockMultipart: Sendable {
    struct Upload: Sendable {
        let key: String
        let initiated: Double
        var parts: [Int: (etag: ETag, bytes: [UInt8])] = [:]
    }

    private(set) var uploads: [String: Upload] = [:]
    private var nextID = 1

    mutating func create(key: String, now: Double) -> MultipartUploadID {
        defer { nextID += 1 }
        let id = "mock-upload-\(nextID)"
        uploads[id] = Upload(key: key, initiated: now)
        return MultipartUploadID(id)
    }

    mutating func addPart(_ upload: MultipartUploadID, key: String, number: Int, bytes: [UInt8]) throws(ObjectStoreError) -> ETag {
        guard uploads[upload.value]?.key == key else { throw .stub(.noSuchUpload) }
        guard (1...UploadLimits.maxParts).contains(number) else { throw .stub(ServiceError.Kind.other) }
        let etag = ETag("\"part-\(number)-\(bytes.count)-\(Self.checksum(bytes))\"")
        uploads[upload.value]?.parts[number] = (etag, bytes)
        return etag
    }

    /// The object's bytes once every listed part matches what was uploaded; the upload ends.
    mutating func complete(_ upload: MultipartUploadID, key: String, parts: [CompletedPart]) throws(ObjectStoreError) -> [UInt8] {
        guard let stored = uploads[upload.value], stored.key == key else { throw .stub(.noSuchUpload) }
        var bytes: [UInt8] = []
        for (index, part) in parts.enumerated() {
            guard let uploaded = stored.parts[part.number], uploaded.etag == part.etag,
                index == 0 || parts[index - 1].number < part.number
            else { throw .stub(ServiceError.Kind.other) }
            if index < parts.count - 1, uploaded.bytes.count < UploadLimits.minPartBytes { throw .stub(ServiceError.Kind.other) }
            bytes += uploaded.bytes
        }
        uploads[upload.value] = nil
        return bytes
    }

    mutating func abort(_ upload: MultipartUploadID) {
        uploads[upload.value] = nil
    }

    func list(prefix: String) -> [MultipartUploadInfo] {
        uploads.filter { $0.value.key.hasPrefix(prefix) }
            .map { MultipartUploadInfo(key: $0.value.key, uploadID: MultipartUploadID($0.key), initiated: $0.value.initiated) }
            .sorted { ($0.key, $0.uploadID.value) < ($1.key, $1.uploadID.value) }
    }

    private static func checksum(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    }
}
