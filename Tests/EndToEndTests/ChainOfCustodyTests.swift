import CDRTestSupport
import Foundation
import Testing

/// `--stats` ties a run to the exact dumps it read: each input's SHA-256 of its bytes as read
/// (issue #12), checked against coreutils' `sha256sum` of the same files.
struct ChainOfCustodyTests {
    static func dump() -> SyntheticDump {
        var options = SyntheticDump.Options()
        options.records = 20_000
        options.badLines = 10
        options.seed = 12
        return SyntheticDump(options)
    }

    /// `sha256sum FILE`'s digest, computed by a program that is not catpool.
    static func sha256sum(_ file: URL) throws -> String {
        let result = try CatPoolBinary.shell(
            "sha256sum '\(file.path)'",
            in: file.deletingLastPathComponent(), timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        return String(result.stdout.prefix(64))
    }

    static func inputs(ofStats url: URL) throws -> [[String: Any]] {
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        return try #require(object["inputs"] as? [[String: Any]])
    }

    @Test func statsGiveEachInputsDigestForPlainGzipAndZstdFiles() throws {
        let bytes = Self.dump().bytes
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = folder.appendingPathComponent("a.csv")
        let gzip = folder.appendingPathComponent("b.csv.gz")
        let zstd = folder.appendingPathComponent("c.csv.zst")
        try Data(bytes).write(to: plain)
        try Data(Compression.gzip(bytes, members: 3)).write(to: gzip)
        // Several frames, so the digest spans more than one read of the 1 MiB buffer.
        try Data(Compression.zstd(bytes + bytes + bytes, frames: 5, level: 1)).write(to: zstd)
        let stats = folder.appendingPathComponent("stats.json")
        let result = try CatPoolBinary.run([
            "check", "-q", "--stats", stats.path, plain.path, gzip.path, zstd.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let inputs = try Self.inputs(ofStats: stats)
        #expect(inputs.count == 3)
        for (input, file) in zip(inputs, [plain, gzip, zstd]) {
            #expect(input["name"] as? String == file.path)
            let digest = try #require(input["sha256"] as? String)
            #expect(digest == (try Self.sha256sum(file)), "\(file.lastPathComponent)")
        }
        // Three different files, three different digests: the field is per input.
        #expect(Set(inputs.compactMap { $0["sha256"] as? String }).count == 3)
    }

    @Test func statsGiveTheDigestOfStdin() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("day.csv.zst")
        try Data(Compression.zstd(Self.dump().bytes)).write(to: file)
        let result = try CatPoolBinary.run(["check", "-q", "--stats", "-"], stdin: file)
        #expect(result.status == 0, "\(result.stderr)")
        let stats = folder.appendingPathComponent("stats.json")
        try Data(result.stdout.utf8).write(to: stats)
        let inputs = try Self.inputs(ofStats: stats)
        #expect(inputs.count == 1)
        #expect(inputs.first?["name"] as? String == "-")
        #expect(inputs.first?["sha256"] as? String == (try Self.sha256sum(file)))
    }

    @Test func aCorruptInputHasNoDigest() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var bytes = Compression.zstd(Self.dump().bytes)
        bytes.removeLast(bytes.count / 2)
        let file = folder.appendingPathComponent("cut.csv.zst")
        try Data(bytes).write(to: file)
        let stats = folder.appendingPathComponent("stats.json")
        let result = try CatPoolBinary.run(["check", "-q", "--stats", stats.path, file.path])
        #expect(result.status == 65, "\(result.stderr)")
        let inputs = try Self.inputs(ofStats: stats)
        #expect(inputs.count == 1)
        #expect(inputs.first?["sha256"] is NSNull)
    }
}
