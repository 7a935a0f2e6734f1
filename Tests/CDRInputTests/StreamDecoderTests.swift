import CDRInput
import CDRSimulation
import CDRTestSupport
import Foundation
import Testing

struct StreamDecoderTests {
    /// Decodes `input` fed in chunks of `chunkSize`, through an output buffer of `outputSize`.
    static func decode(_ input: [UInt8], chunkSize: Int, outputSize: Int = 4096) throws -> (
        bytes: [UInt8], format: CompressionFormat?
    ) {
        let decoder = StreamDecoder()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: outputSize, alignment: 1)
        defer { buffer.deallocate() }
        var output: [UInt8] = []
        for chunk in chunks(input, size: chunkSize) {
            try chunk.withUnsafeBytes {
                try decoder.feed($0, using: buffer) { output.append(contentsOf: $0) }
            }
        }
        try decoder.finish(using: buffer) { output.append(contentsOf: $0) }
        #expect(decoder.bytesIn == input.count)
        #expect(decoder.bytesOut == output.count)
        return (output, decoder.format)
    }

    static let text: [UInt8] = {
        var random = SimulationRandom(seed: 7)
        return Array((0..<30_000).map { "line \($0),\(random.next() % 1_000_000)\n" }.joined().utf8)
    }()

    enum Container: CaseIterable {
        case plain, zstd, zstdManyFrames, zstdWithSkippable, gzip, gzipManyMembers
    }

    static func encode(_ bytes: [UInt8], as container: Container) -> [UInt8] {
        switch container {
        case .plain: return bytes
        case .zstd: return Compression.zstd(bytes)
        case .zstdManyFrames: return Compression.zstd(bytes, frames: 5)
        case .zstdWithSkippable:
            return Compression.zstdSkippableFrame(payload: Array("metadata".utf8))
                + Compression.zstd(bytes, frames: 2)
                + Compression.zstdSkippableFrame(payload: [])
                + Compression.zstd(Array("tail\n".utf8))
        case .gzip: return Compression.gzip(bytes)
        case .gzipManyMembers: return Compression.gzip(bytes, members: 4)
        }
    }

    @Test(arguments: Container.allCases, streamingChunkSizes)
    func decodesEveryContainerAtEveryChunkSize(container: Container, chunkSize: Int) throws {
        let encoded = Self.encode(Self.text, as: container)
        let expected =
            container == .zstdWithSkippable ? Self.text + Array("tail\n".utf8) : Self.text
        let decoded = try Self.decode(encoded, chunkSize: chunkSize)
        #expect(decoded.bytes == expected)
    }

    @Test(arguments: [16, 17, 4096, 1 << 20])
    func decodesWhateverTheOutputBufferSize(outputSize: Int) throws {
        for container in Container.allCases {
            let decoded = try Self.decode(
                Self.encode(Self.text, as: container), chunkSize: 1000, outputSize: outputSize)
            #expect(decoded.bytes.count >= Self.text.count)
        }
    }

    /// The golden files of `Fixtures/zstd-golden` (made by its `make.py`), each with the
    /// SHA-256 of its decoded bytes.
    static let goldenFolder = TestPaths.fixtures.appendingPathComponent("zstd-golden")
    static let goldenDigests: [(name: String, digest: String)] = {
        let url = goldenFolder.appendingPathComponent("SHA256SUMS.decoded")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            return parts.count == 2 ? (String(parts[1]), String(parts[0])) : nil
        }
    }()

    @Test func everyGoldenFileHasADigest() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.goldenFolder.path)
            .filter { $0.hasSuffix(".zst") || $0.hasSuffix(".gz") }
        #expect(files.count >= 9)
        #expect(Set(files) == Set(Self.goldenDigests.map(\.name)))
    }

    @Test(arguments: goldenDigests.map(\.name), [1, 7, 4096, 1 << 20])
    func decodesGoldenFilesToTheirDigests(name: String, chunkSize: Int) throws {
        let expected = try #require(Self.goldenDigests.first { $0.name == name }?.digest)
        let decoded = try Self.decode(
            try TestPaths.read(Self.goldenFolder.appendingPathComponent(name)),
            chunkSize: chunkSize)
        #expect(decoded.format == (name.hasSuffix(".gz") ? .gzip : .zstd))
        #expect(SHA256.hexDigest(decoded.bytes) == expected)
    }

    @Test func detectsFormatsFromTheFirstBytes() {
        func detect(_ bytes: [UInt8], complete: Bool = false) -> CompressionFormat? {
            bytes.withUnsafeBytes { CompressionFormat.detect(prefix: $0, isComplete: complete) }
        }
        #expect(detect([0x28, 0xB5, 0x2F, 0xFD]) == .zstd)
        #expect(detect([0x5E, 0x2A, 0x4D, 0x18]) == .zstd)
        #expect(detect([0x1F, 0x8B]) == .gzip)
        #expect(detect(Array("even".utf8)) == .plain)
        #expect(detect([0x28, 0xB5]) == nil)
        #expect(detect([0x28, 0xB5], complete: true) == .plain)
        #expect(detect(Array("ev".utf8)) == .plain)
        #expect(detect([]) == nil)
        #expect(detect([], complete: true) == .plain)
    }

    @Test(arguments: [
        ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00, 0x04], "xz"),
        (Array("BZh91AY&SY".utf8), "bzip2"), ([0x04, 0x22, 0x4D, 0x18, 0x64], "lz4"),
        ([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00], "zip"),
    ])
    func namesContainersItDoesNotReadInsteadOfReadingThemAsText(input: [UInt8], name: String) {
        #expect(throws: InputError.self) { try Self.decode(input, chunkSize: 4096) }
        do {
            _ = try Self.decode(input, chunkSize: 4096)
        } catch {
            guard case .unsupportedFormat(let found, _) = error as? InputError else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(found == name)
        }
        // Text that merely starts with the same letters is text.
        #expect(
            (try? Self.decode(Array("BZh, a column\n".utf8), chunkSize: 4096))?.format == .plain)
    }

    @Test(arguments: [[UInt8](), [0x0A], Array("ab".utf8), [0x28, 0xB5, 0x2F], [0x1F]])
    func passesShortAndEmptyInputsThroughAsPlainText(input: [UInt8]) throws {
        let decoded = try Self.decode(input, chunkSize: 1)
        #expect(decoded.bytes == input)
        #expect(decoded.format == .plain)
    }

    @Test func emptyZstdFrameDecodesToNothing() throws {
        let decoded = try Self.decode(Compression.zstd([]), chunkSize: 3)
        #expect(decoded.bytes.isEmpty && decoded.format == .zstd)
    }

    @Test(arguments: [Container.zstd, .gzip], [1, 4096])
    func reportsTruncationAfterDeliveringWhatCameBefore(container: Container, chunkSize: Int) throws
    {
        // The text spans several 128 KiB zstd blocks, so whole blocks precede the cut.
        let encoded = Self.encode(Self.text, as: container)
        let cut = Array(encoded.prefix(encoded.count * 2 / 3))
        let decoder = StreamDecoder()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { buffer.deallocate() }
        var output: [UInt8] = []
        for chunk in chunks(cut, size: chunkSize) {
            try chunk.withUnsafeBytes {
                try decoder.feed($0, using: buffer) { output.append(contentsOf: $0) }
            }
        }
        let format: CompressionFormat = container == .zstd ? .zstd : .gzip
        #expect(throws: InputError.truncated(format: format, offset: cut.count)) {
            try decoder.finish(using: buffer) { output.append(contentsOf: $0) }
        }
        #expect(!output.isEmpty)
        #expect(Array(Self.text.prefix(output.count)) == output)
    }

    @Test(arguments: [Container.zstd, .gzip])
    func reportsCorruptionWithItsByteOffset(container: Container) throws {
        var encoded = Self.encode(Self.text, as: container) + Self.encode(Self.text, as: container)
        let damageAt = encoded.count / 2 + 7
        for index in damageAt..<(damageAt + 16) { encoded[index] ^= 0x5A }
        var caught: InputError?
        do {
            _ = try Self.decode(encoded, chunkSize: 4096)
        } catch let error as InputError {
            caught = error
        }
        guard case .corrupt(let format, let offset, let reason)? = caught else {
            Issue.record("expected a corrupt-data error, got \(String(describing: caught))")
            return
        }
        #expect(format == (container == .zstd ? .zstd : .gzip))
        #expect(offset > 0 && offset <= encoded.count)
        #expect(!reason.isEmpty)
    }

    @Test func rejectsGarbageAfterAZstdFrame() throws {
        let encoded = Compression.zstd(Self.text) + Array("not zstd at all".utf8)
        #expect(throws: InputError.self) { _ = try Self.decode(encoded, chunkSize: 1 << 20) }
    }
}

struct ZstdStreamEncoderTests {
    @Test(arguments: [Int32(0), 1])
    func roundTripsThroughTheDecoder(workers: Int32) throws {
        let encoder = try ZstdStreamEncoder(level: 3, workers: workers)
        var compressed: [UInt8] = []
        for chunk in chunks(StreamDecoderTests.text, size: 100_000) {
            try chunk.withUnsafeBytes {
                try encoder.compress($0) { compressed.append(contentsOf: $0) }
            }
        }
        try encoder.finish { compressed.append(contentsOf: $0) }
        #expect(compressed.count < StreamDecoderTests.text.count / 2)
        let decoded = try StreamDecoderTests.decode(compressed, chunkSize: 4096)
        #expect(decoded.bytes == StreamDecoderTests.text && decoded.format == .zstd)
    }
}
