// FuzzEntryPoints: the C entry points of s3http-fuzz. libFuzzer calls LLVMFuzzerTestOneInput for each input (the
// target named by S3HTTP_FUZZ_TARGET); a broken invariant is a crash, which libFuzzer saves as crash-<sha1>. Without
// libFuzzer, main.c calls s3http_fuzz_replay to check saved inputs.

import Foundation

/// The target of this process, from S3HTTP_FUZZ_TARGET (read once: the variable cannot change under libFuzzer).
private let fuzzTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["S3HTTP_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("s3http-fuzz: set S3HTTP_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        try fuzzTarget.check(input)
    } catch {
        fatalError("\(fuzzTarget.rawValue): invariant broken: \(error)")
    }
    return 0
}

@_cdecl("s3http_fuzz_replay")
public func replay(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    let arguments = CommandLine.arguments
    guard arguments.count >= 3, let target = FuzzTarget(rawValue: arguments[1]) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
        print("usage: s3http-fuzz <\(names)> <input file>...  (scripts/fuzz.sh builds the libFuzzer version)")
        return 2
    }
    var broken: CInt = 0
    for path in arguments.dropFirst(2) {
        guard let data = FileManager.default.contents(atPath: path) else {
            print("\(path): cannot read")
            return 2
        }
        do {
            try target.check(Array(data))
            print("\(path): ok")
        } catch {
            print("\(path): \(error)")
            broken = 1
        }
    }
    return broken
}
