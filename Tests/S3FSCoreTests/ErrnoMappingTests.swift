#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ObjectStore
@testable import S3FSCore
import S3FSTesting
import Testing

/// Every ObjectStoreError case maps to one errno. The switches below are exhaustive on purpose: a new case fails
/// to compile here until someone decides its errno.
@Suite struct ErrnoMappingTests {
    static let serviceKinds: [ServiceError.Kind] = [
        .noSuchKey, .noSuchBucket, .accessDenied, .preconditionFailed, .invalidRange, .noSuchUpload, .throttled,
        .serverError, .other,
    ]
    static let clientKinds: [ClientError.Kind] = [
        .connectionRefused, .hostNotFound, .timedOut, .connectionReset, .tls, .tlsCertificate, .truncatedBody,
        .malformedResponse, .other,
    ]

    static func expected(_ kind: ServiceError.Kind) -> Int32 {
        switch kind {
        case .noSuchKey, .noSuchBucket: ENOENT
        case .accessDenied: EACCES
        case .preconditionFailed: ESTALE
        case .invalidRange: EINVAL
        case .noSuchUpload, .throttled, .serverError, .other: EIO
        }
    }

    static func expected(_ kind: ClientError.Kind) -> Int32 {
        switch kind {
        case .connectionRefused, .hostNotFound, .timedOut, .connectionReset, .tls, .tlsCertificate, .truncatedBody,
            .malformedResponse, .other:
            EIO
        }
    }

    @Test(arguments: serviceKinds)
    func serviceErrors(kind: ServiceError.Kind) {
        let error = FSError(.stub(kind), operation: "read", key: "k")
        #expect(error.errno == Self.expected(kind))
        #expect(error.message.contains("\"k\""))
    }

    @Test(arguments: clientKinds)
    func clientErrors(kind: ClientError.Kind) {
        #expect(FSError(.stub(kind), operation: "read", key: "k").errno == Self.expected(kind))
    }

    @Test func theStatusClassesOfTheBriefMapAsDocumented() {
        let fiveHundreds = ServiceError(kind: .serverError, status: 502, code: "BadGateway", message: "")
        #expect(FSError(.service(fiveHundreds), operation: "x", key: "k").errno == EIO)
        #expect(FSError(.stub(ServiceError.Kind.accessDenied), operation: "x", key: "k").errno == EACCES)
        #expect(FSError(.stub(ServiceError.Kind.noSuchKey), operation: "x", key: "k").errno == ENOENT)
        #expect(FSError(.stub(ServiceError.Kind.preconditionFailed), operation: "x", key: "k").errno == ESTALE)
        #expect(FSError(.stub(ServiceError.Kind.throttled), operation: "x", key: "k").errno == EIO)
    }
}
