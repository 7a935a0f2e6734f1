// swift-tools-version:6.1
// Benchmarks for catpool, kept in their own package so the product never pulls in the
// benchmark tooling or its malloc interposer. Run from this folder:
//   swift package benchmark                 # all stages
//   swift package benchmark --filter parse  # one
import PackageDescription

let package = Package(
    name: "CatPoolBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "catpool", path: ".."),
        .package(
            url: "https://github.com/ordo-one/benchmark", from: "1.38.1",
            traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(
            name: "CorpusGenerator",
            dependencies: [
                .product(name: "CDRInput", package: "catpool"),
                .product(name: "CDRSimulation", package: "catpool"),
            ]
        ),
        .executableTarget(
            name: "CatPoolBenchmarks",
            dependencies: [
                "CorpusGenerator",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CDRPipeline", package: "catpool"),
                .product(name: "CDRInput", package: "catpool"),
            ],
            path: "Benchmarks/CatPoolBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
