import Foundation
@testable import s3mount
import Testing

/// --prefetch-manifest lines: paths relative to the mount or absolute under the mountpoint; anything else fails
/// the mount with the line's number.
@Suite struct ManifestFileTests {
    @Test(arguments: [
        ("train/c01/0001.jpg", "train/c01/0001.jpg"), ("./train//a.jpg", "train/a.jpg"),
        ("/data/train/a.jpg", "train/a.jpg"), ("a", "a"),
    ])
    func pathsUnderTheMountAreRelativeToItsRoot(entry: String, expected: String) {
        #expect(ManifestFile.relativePath(entry, mountpoint: "/data") == expected)
    }

    @Test(arguments: ["/elsewhere/a.jpg", "/data", "/database/a", "../a", "train/../../a", "."])
    func pathsOutsideTheMountAreRefused(entry: String) {
        #expect(ManifestFile.relativePath(entry, mountpoint: "/data") == nil)
    }

    @Test func blankLinesAndCommentsAreSkippedAndABadLineIsNamed() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(getpid()).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try "# epoch order\n\ntrain/a\n  /data/train/b \n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try ManifestFile.read(file.path, mountpoint: "/data") == ["train/a", "train/b"])
        try "train/a\n/etc/passwd\n".write(to: file, atomically: true, encoding: .utf8)
        #expect {
            try ManifestFile.read(file.path, mountpoint: "/data")
        } throws: { error in
            "\(error)".contains("line 2") && "\(error)".contains("/etc/passwd")
        }
        #expect(throws: MountFailure.self) { try ManifestFile.read(file.path + ".absent", mountpoint: "/data") }
        try "# nothing\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: MountFailure.self) { try ManifestFile.read(file.path, mountpoint: "/data") }
    }
}
