/// The bytes of one read, as pieces of cached blocks (served in place) or bytes owned outright.
public struct ReadData: Sendable {
    enum Piece: Sendable {
        case block(BlockBuffer, Range<Int>)
        case owned([UInt8])
    }

    let pieces: [Piece]

    public var count: Int {
        pieces.reduce(0) { total, piece in
            switch piece {
            case .block(_, let range): total + range.count
            case .owned(let bytes): total + bytes.count
            }
        }
    }

    /// Calls `body` with the pieces in order; the pointers are valid only during the call.
    public func withUnsafeBuffers<R>(_ body: ([UnsafeRawBufferPointer]) -> R) -> R {
        var buffers: [UnsafeRawBufferPointer] = unsafe []
        return unsafe Self.collect(pieces[...], into: &buffers, body)
    }

    /// A copy of the bytes, for tests and small reads.
    public var bytes: [UInt8] {
        unsafe withUnsafeBuffers { buffers in unsafe buffers.flatMap { unsafe Array($0) } }
    }

    private static func collect<R>(
        _ rest: ArraySlice<Piece>, into buffers: inout [UnsafeRawBufferPointer], _ body: ([UnsafeRawBufferPointer]) -> R
    ) -> R {
        guard let first = rest.first else { return unsafe body(buffers) }
        switch first {
        case .block(let block, let range):
            // SAFETY: the block's bytes stay valid while it lives, and it lives until `body` returns.
            unsafe buffers.append(block.bytes(range))
            return withExtendedLifetime(block) { unsafe collect(rest.dropFirst(), into: &buffers, body) }
        case .owned(let bytes):
            // SAFETY: the pointer is used only until `body`, called inside this closure, returns.
            return unsafe bytes.withUnsafeBytes { pointer in
                unsafe buffers.append(pointer)
                return unsafe collect(rest.dropFirst(), into: &buffers, body)
            }
        }
    }
}
