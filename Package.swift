// swift-tools-version:6.1
import PackageDescription

// Linux only: the executable and the C helpers use Glibc, the thread id syscall and SSE2 (on
// other processors a portable path is compiled). No Apple platform is declared, as none builds.
let package = Package(
    name: "catpool",
    products: [
        .executable(name: "catpool", targets: ["catpool"]),
        .library(name: "CDRPipeline", targets: ["CDRPipeline"]),
        .library(name: "CDRInput", targets: ["CDRInput"]),
        .library(name: "CDRSimulation", targets: ["CDRSimulation"]),
    ],
    // Exact versions, the transitive swift-asn1 included; Package.resolved pins the whole
    // graph to commits (see the README).
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        // SHA-256 of each input as read, for `--stats` (issue #12: chain of custody), and the
        // HMAC-SHA256 of --pseudonymise (#14): BoringSSL's, not one we would write.
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        // swift-crypto's own dependency, pinned here so it cannot move under it.
        .package(url: "https://github.com/apple/swift-asn1.git", exact: "1.7.4"),
        // The HTML of `catpool report`, built as a tree rather than by concatenation.
        .package(url: "https://github.com/JohnSundell/Plot", exact: "0.14.0"),
    ],
    targets: [
        // MARK: - System libraries (Debian: libzstd-dev, zlib1g-dev)
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        // Static inline C: a cache prefetch hint, a 16-byte delimiter search, the thread id.
        .systemLibrary(name: "CSupport"),

        // MARK: - Core (no I/O)
        .target(name: "CDRInput", dependencies: ["CZstd", "CZlib"]),
        .target(name: "OpenAddressing", dependencies: ["CSupport"]),
        .target(name: "CDRRecords", dependencies: ["CSupport", "OpenAddressing"]),
        .target(name: "SlidingWindows"),
        // JSON written by hand, byte for byte the same on every machine; imports nothing, so
        // the simulator can write its truth file without depending on the pipeline.
        .target(name: "JSONText"),
        .target(
            name: "SIMBoxDetection",
            dependencies: ["CDRRecords", "SlidingWindows", "OpenAddressing", "CSupport"]),
        .target(
            name: "CDRPipeline",
            dependencies: [
                "CDRInput", "CDRRecords", "SIMBoxDetection", "JSONText",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]),
        .target(
            name: "CDRSimulation", dependencies: ["CDRRecords", "SIMBoxDetection", "JSONText"]),
        .target(
            name: "CDRReport",
            dependencies: ["CDRPipeline", .product(name: "Plot", package: "Plot")]),

        // MARK: - Executable
        .executableTarget(
            name: "catpool",
            dependencies: [
                "CDRPipeline",
                "CDRInput",
                "CDRSimulation",
                "CDRReport",
                "CSupport",
                "JSONText",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // MARK: - Tests
        .target(
            name: "CDRTestSupport",
            dependencies: ["CDRRecords", "CDRSimulation", "CZstd", "CZlib"],
            path: "Tests/CDRTestSupport"),
        .testTarget(
            name: "CDRInputTests", dependencies: ["CDRInput", "CDRSimulation", "CDRTestSupport"]),
        .testTarget(
            name: "CDRRecordsTests",
            dependencies: ["CDRRecords", "CDRSimulation", "CDRTestSupport", "CSupport"]),
        .testTarget(
            name: "SIMBoxDetectionTests", dependencies: ["SIMBoxDetection", "CDRSimulation"]),
        .testTarget(
            name: "SlidingWindowsTests", dependencies: ["SlidingWindows", "CDRSimulation"]),
        .testTarget(
            name: "OpenAddressingTests", dependencies: ["OpenAddressing", "CDRSimulation"]),
        .testTarget(name: "JSONTextTests", dependencies: ["JSONText"]),
        .testTarget(
            name: "CDRPipelineTests",
            dependencies: ["CDRPipeline", "CDRSimulation", "CDRTestSupport"]),
        .testTarget(
            name: "CDRSimulationTests",
            dependencies: ["CDRSimulation", "CDRPipeline", "CDRTestSupport"]),
        .testTarget(name: "CDRReportTests", dependencies: ["CDRReport", "CDRPipeline"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["CDRTestSupport", "CDRSimulation", "CDRInput", "SIMBoxDetection"]),
        // The executable's threads (`HandOff`, `DecodingReader`, `DetectorThread`) against
        // running inline.
        .testTarget(
            name: "catpoolTests", dependencies: ["catpool", "CDRPipeline", "CDRSimulation"]),
    ],
    swiftLanguageModes: [.v6]
)
