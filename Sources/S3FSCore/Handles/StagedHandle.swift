/// An open file whose bytes come from its staged copy: opened for writing, or opened while a staged copy exists
/// (read-your-writes). Its handle number carries `StagedHandle.tag`, so it can never be taken for a read handle.
struct StagedHandle: Sendable {
    static let tag: UInt64 = 1 << 62

    let inode: InodeNumber
    let file: StagedFile
    let canWrite: Bool

    static func isStaged(_ handle: UInt64) -> Bool { handle & tag != 0 }
}
