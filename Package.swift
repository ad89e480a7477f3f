// swift-tools-version: 6.2
import PackageDescription

let strictSafety: [SwiftSetting] = [.strictMemorySafety()]
let metrics: Target.Dependency = .product(name: "CoreMetrics", package: "swift-metrics")

let package = Package(
    name: "s3mount",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "s3mount", targets: ["s3mount"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CFuse", path: "CFuse", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),
        .systemLibrary(name: "CXXHash", path: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .target(name: "CShims", linkerSettings: [.linkedLibrary("curl"), .linkedLibrary("crypto")]),
        .target(name: "CSystem"),
        .target(name: "ObjectStore"),
        .target(name: "Observability", dependencies: [metrics]),
        .target(
            name: "S3HTTP",
            dependencies: ["CShims", "ObjectStore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSafety
        ),
        .target(
            name: "EndpointPool",
            dependencies: ["ObjectStore", .product(name: "Logging", package: "swift-log"), metrics, "Observability"]
        ),
        .target(
            name: "S3FSCore",
            dependencies: ["CSystem", "CXXHash", "ObjectStore", .product(name: "Logging", package: "swift-log"), metrics, "Observability"],
            swiftSettings: strictSafety
        ),
        .target(
            name: "FuseBridge",
            dependencies: ["CFuse", "CSystem", "S3FSCore", .product(name: "Logging", package: "swift-log"), metrics, "Observability"],
            swiftSettings: strictSafety
        ),
        .target(name: "S3FSTesting", dependencies: ["ObjectStore", "S3FSCore"]),
        // The parsers of server input as fuzz targets with their invariants (docs/OPERATIONS.md, "Fuzzing"): driven by libFuzzer in
        // s3http-fuzz (scripts/fuzz.sh builds it with -sanitize=fuzzer) and by a seeded corpus runner in S3HTTPTests.
        .target(name: "ParserFuzzing", dependencies: ["S3HTTP", "ObjectStore"]),
        .executableTarget(name: "s3http-fuzz", dependencies: ["ParserFuzzing"]),
        .executableTarget(
            name: "s3mount",
            dependencies: [
                "CShims", "CSystem", "S3HTTP", "S3FSCore", "FuseBridge", "EndpointPool",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"), metrics, "Observability",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSafety
        ),
        .testTarget(name: "S3HTTPTests", dependencies: ["S3HTTP", "ObjectStore", "S3FSTesting", "ParserFuzzing"]),
        .testTarget(
            name: "S3FSCoreTests", dependencies: ["S3FSCore", "S3FSTesting", "ObjectStore", "S3HTTP", "CSystem", "Observability"]),
        .testTarget(
            name: "S3MountCLITests",
            dependencies: ["s3mount", "Observability", metrics, .product(name: "Prometheus", package: "swift-prometheus")]),
        .testTarget(name: "ObservabilityTests", dependencies: ["Observability"]),
        .testTarget(name: "EndpointPoolTests", dependencies: ["EndpointPool", "S3FSTesting", "ObjectStore"]),
    ],
    swiftLanguageModes: [.v6]
)
