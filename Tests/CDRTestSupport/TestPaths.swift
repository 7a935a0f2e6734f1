import Foundation

/// Where the repository and its neighbours are, found from this file's path.
public enum TestPaths {
    /// The repository root (the folder holding `Package.swift`).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let fixtures = repositoryRoot.appendingPathComponent("Fixtures")

    public static func read(_ url: URL) throws -> [UInt8] {
        Array(try Data(contentsOf: url))
    }
}

/// The chunk sizes every streaming stage is fed at (swift-nio's verifier habit).
public let streamingChunkSizes = [1, 2, 3, 7, 64, 4096, 1 << 20]

/// Splits `bytes` into chunks of `size` (the last may be shorter).
public func chunks(_ bytes: [UInt8], size: Int) -> [[UInt8]] {
    stride(from: 0, to: bytes.count, by: size).map {
        Array(bytes[$0..<min($0 + size, bytes.count)])
    }
}
