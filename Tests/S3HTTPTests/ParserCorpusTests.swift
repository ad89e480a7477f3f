// The fuzz targets (ParserFuzzing) without libFuzzer, in every `swift test`: each target gets its committed seed
// corpus (Fuzz/corpus/<target>/) and a few thousand seeded mutations of it (byte flips, insertions, deletions,
// splices and dictionary tokens), and every invariant must hold. Deterministic: a failure names the seed and the
// mutation, and rerunning reproduces it. scripts/fuzz.sh runs the same checks under libFuzzer for longer.

import Foundation
import ParserFuzzing
import S3FSTesting
import Testing

struct ParserCorpusTests {
    static let mutationsPerTarget = 10_000
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func files(_ directory: URL) -> [[UInt8]] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().compactMap { FileManager.default.contents(atPath: directory.appendingPathComponent($0).path) }
            .map { Array($0) }
    }

    /// The quoted tokens of Fuzz/dict/<target>.dict (libFuzzer's format; only \" and \xNN escapes are used there).
    static func dictionary(_ target: FuzzTarget) -> [[UInt8]] {
        let url = fuzzDirectory.appendingPathComponent("dict/\(target.rawValue).dict")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").filter { $0.hasPrefix("\"") }.map { line in
            var bytes: [UInt8] = []
            var chars = Array(line.utf8.dropFirst().dropLast())[...]
            while let byte = chars.popFirst() {
                guard byte == UInt8(ascii: "\\"), let next = chars.popFirst() else {
                    bytes.append(byte)
                    continue
                }
                if next == UInt8(ascii: "x"), chars.count >= 2, let value = UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16) {
                    bytes.append(value)
                    chars = chars.dropFirst(2)
                } else {
                    bytes.append(next)
                }
            }
            return bytes
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsAndMutationsKeepEveryInvariant(target: FuzzTarget) {
        let seeds = Self.files(Self.fuzzDirectory.appendingPathComponent("corpus/\(target.rawValue)"))
        #expect(!seeds.isEmpty, "no seed corpus for \(target.rawValue)")
        for (index, seed) in seeds.enumerated() {
            #expect(throws: Never.self, "seed \(index) of \(target.rawValue)") { try target.check(seed) }
        }
        var mutator = Mutator(seed: UInt64(target.rawValue.utf8.reduce(5381) { $0 &* 33 &+ Int($1) }.magnitude))
        let tokens = Self.dictionary(target)
        for round in 0..<Self.mutationsPerTarget where !seeds.isEmpty {
            let input = mutator.mutate(seeds[mutator.below(seeds.count)], splicing: seeds, tokens: tokens)
            do {
                try target.check(input)
            } catch {
                Issue.record("\(target.rawValue), mutation \(round): \(error); input \(input)")
                return
            }
        }
    }
}

/// Seeded mutations in the manner of libFuzzer's, small and deterministic (SplitMix64).
struct Mutator {
    private var random: SplitMix

    init(seed: UInt64) { random = SplitMix(seed: seed) }

    mutating func next() -> UInt64 { random.next() }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

    /// One to four edits of `input`.
    mutating func mutate(_ input: [UInt8], splicing others: [[UInt8]], tokens: [[UInt8]]) -> [UInt8] {
        var bytes = input
        for _ in 0...below(4) {
            let at = below(bytes.count + 1)
            switch below(6) {
            case 0 where !bytes.isEmpty: bytes[min(at, bytes.count - 1)] ^= UInt8(1 << below(8))
            case 1: bytes.insert(UInt8(truncatingIfNeeded: next()), at: at)
            case 2 where !bytes.isEmpty: bytes.removeSubrange(at..<min(bytes.count, at + 1 + below(16)))
            case 3:
                let other = others[below(others.count)]
                let from = below(other.count + 1)
                bytes.insert(contentsOf: other[from..<min(other.count, from + below(64))], at: at)
            case 4 where !tokens.isEmpty: bytes.insert(contentsOf: tokens[below(tokens.count)], at: at)
            default: bytes.insert(contentsOf: [0x00, 0xFF, 0x7F, 0x0D, 0x0A, 0x25, 0x26, 0x3C][below(8)...].prefix(1), at: at)
            }
        }
        return bytes
    }
}
