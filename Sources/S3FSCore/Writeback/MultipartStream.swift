// MultipartStream: a multipart upload of one staged file, fed part by part — while a new file is still being
// written sequentially (each part handed off as soon as its bytes are all written), or after close for a large
// file, or resumed at mount from the parts the journal records.
import ObjectStore

struct MultipartStream: Sendable {
    /// The key the upload was created for; a rename ends the stream.
    let key: String
    let layout: PartLayout
    /// Set once CreateMultipartUpload answered.
    var upload: MultipartUploadID?
    /// The part the next handoff uploads.
    var nextPart = 1
    /// Bytes [0, handedOff) belong to parts already handed off.
    var handedOff: UInt64 = 0
    /// Parts in S3, by number.
    var parts: [Int: ETag] = [:]
    /// Handed-off part uploads still running (awaited before completing).
    var running: [Int: Task<Void, Never>] = [:]
    /// The CreateMultipartUpload call, shared by the parts that need its upload id.
    var creation: Task<MultipartUploadID?, Never>?

    init(key: String, layout: PartLayout) {
        self.key = key
        self.layout = layout
    }

    /// A stream resumed from the journal: its upload and the parts already in S3.
    init(key: String, layout: PartLayout, upload: MultipartUploadID, parts: [Int: ETag]) {
        self.key = key
        self.layout = layout
        self.upload = upload
        self.parts = parts
    }
}
