// ParserFuzzing: each parser of what a server sends, as a fuzz target that feeds it arbitrary bytes and checks the
// invariants the parser promises, not only that it does not trap. Several targets read the bytes two ways: as the
// raw input of the parser, and as a recipe for a well-formed answer (FuzzInput) whose parse must give back exactly
// what the recipe put in. libFuzzer drives the targets in s3http-fuzz; ParserCorpusTests replays the committed corpus
// (Fuzz/corpus/<target>/) and seeded mutations of it in every `swift test`.

/// A broken invariant: what the parser did with which input.
public struct InvariantViolation: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}

/// One fuzz target; its raw value names it on the command line and its corpus directory.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// ListObjectsV2Reader: raw documents, and pages built from a recipe that must read back as built.
    case listObjects = "list-objects"
    /// ErrorDocumentReader, the same two ways.
    case errorDocument = "error-document"
    /// ContentRange against a reference grammar, and GetObjectBodyCheck's verdict on a whole GET head.
    case contentRange = "content-range"
    /// ServerNumbers.size against a reference parse.
    case numbers
    /// Timestamps.parseISO8601 and parseRFC1123 against a reference calendar.
    case timestamps
    /// ResponseAccumulator's header lines and the ETag a HEAD answer yields.
    case headerLines = "header-lines"
    /// SigV4's canonical request and URIEncoding.
    case sigv4

    /// Checks every invariant of this target on `input`; throws the first one broken.
    public func check(_ input: [UInt8]) throws(InvariantViolation) {
        switch self {
        case .listObjects: try ListingChecks.listObjects(input)
        case .errorDocument: try ListingChecks.errorDocument(input)
        case .contentRange: try HeaderChecks.contentRange(input)
        case .numbers: try HeaderChecks.numbers(input)
        case .timestamps: try TimestampChecks.check(input)
        case .headerLines: try HeaderChecks.headerLines(input)
        case .sigv4: try SigningChecks.check(input)
        }
    }
}

/// Throws `message` unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(InvariantViolation) {
    if !condition { throw InvariantViolation(message()) }
}
