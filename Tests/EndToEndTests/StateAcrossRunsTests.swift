import Foundation
import Testing

/// `--state`: a day split into two dumps and read by two runs gives what one run over the
/// whole day gives, byte for byte; an unusable state file is refused or set aside; a failed
/// run leaves it as it was.
@Suite struct StateAcrossRunsTests {
    /// A simulated day (4,000 subscribers, every box kind, records up to 5 minutes late),
    /// split at 13:00 into two plain dumps, each with its header, in a folder of its own.
    struct SplitDay {
        let folder: URL
        var whole: URL { folder.appendingPathComponent("day.csv") }
        var morning: URL { folder.appendingPathComponent("morning.csv") }
        var afternoon: URL { folder.appendingPathComponent("afternoon.csv") }
        var cells: URL { folder.appendingPathComponent("cells.csv") }
        var state: URL { folder.appendingPathComponent("catpool.state") }
        var truth: URL { folder.appendingPathComponent("truth.json") }

        /// The day's files by name, simulated once for all the tests (5 s of a debug build
        /// each time), which then run side by side, each in its own folder.
        private static let files = Result { try simulate() }

        init() throws {
            folder = try makeScratchFolder()
            for (name, bytes) in try Self.files.get() {
                try bytes.write(to: folder.appendingPathComponent(name))
            }
        }

        private struct SimulationFailed: Error, CustomStringConvertible {
            let description: String
        }

        private static func simulate() throws -> [String: Data] {
            let folder = try makeScratchFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let whole = folder.appendingPathComponent("day.csv")
            let simulated = try CatPoolBinary.run([
                "simulate", "--seed", "3", "--subscribers", "4000", "--boxes", "8",
                "--disorder-s", "300", "--format", "csv", "--out", whole.path, "--cells",
                folder.appendingPathComponent("cells.csv").path, "--truth",
                folder.appendingPathComponent("truth.json").path,
            ])
            guard simulated.status == 0 else {
                throw SimulationFailed(description: "simulate: \(simulated.stderr)")
            }
            let day = try Data(contentsOf: whole)
            var lines = String(decoding: day, as: UTF8.self)
                .split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last == "" { lines.removeLast() }
            // At the first line stamped 13:00 or later: later lines may still be earlier (the
            // disorder), as in a real hourly cut.
            guard
                let cut = lines.indices.dropFirst().first(where: {
                    lines[$0].prefix(13) >= "2026-11-20T13"
                })
            else { throw SimulationFailed(description: "the simulated day has no line at 13:00") }
            let header = lines[0]
            return [
                "day.csv": day,
                "morning.csv": Data(
                    (([header] + lines[1..<cut]).joined(separator: "\n") + "\n").utf8),
                "afternoon.csv": Data(
                    (([header] + lines[cut...]).joined(separator: "\n") + "\n").utf8),
                "cells.csv": try Data(contentsOf: folder.appendingPathComponent("cells.csv")),
                "truth.json": try Data(contentsOf: folder.appendingPathComponent("truth.json")),
            ]
        }

        func detect(_ input: URL, _ extra: [String] = []) throws -> CommandResult {
            try CatPoolBinary.run(
                ["detect", "-q", "--cells", cells.path] + extra + [input.path], in: folder)
        }
    }

    @Test func twoRunsWithStateReportWhatOneRunOverTheDayReports() throws {
        let day = try SplitDay()
        defer { try? FileManager.default.removeItem(at: day.folder) }
        let whole = try day.detect(day.whole)
        #expect(whole.status == 0, "\(whole.stderr)")
        let first = try day.detect(day.morning, ["--state", day.state.path])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: day.state.path))
        let second = try day.detect(day.afternoon, ["--state", day.state.path])
        #expect(second.status == 0, "\(second.stderr)")

        expectSameLines(first.stdout + second.stdout, whole.stdout, "two runs with --state")
        let combined = day.folder.appendingPathComponent("two-runs.jsonl")
        try Data((first.stdout + second.stdout).utf8).write(to: combined)
        let score = try CatPoolBinary.run(["score", "--truth", day.truth.path, combined.path])
        #expect(score.stdout.contains("recall=1 sim_recall=1"), "\(score.stdout)")
        // A box active across the cut is one cluster: flagged in the morning, carried on in
        // the afternoon under the same id.
        let morningIDs = Set(Self.clusterIDs(first.stdout))
        let afternoonIDs = Set(Self.clusterIDs(second.stdout))
        #expect(!morningIDs.intersection(afternoonIDs).isEmpty)
        // Without the state the afternoon starts its ids again from cp-1.
        let fresh = try day.detect(day.afternoon)
        #expect(fresh.stdout != second.stdout)
    }

    @Test func refusesADamagedStateFileUnlessToldToReset() throws {
        let day = try SplitDay()
        defer { try? FileManager.default.removeItem(at: day.folder) }
        #expect(try day.detect(day.morning, ["--state", day.state.path]).status == 0)
        var bytes = try Data(contentsOf: day.state)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: day.state)

        let refused = try day.detect(day.afternoon, ["--state", day.state.path])
        #expect(refused.status == 65)
        #expect(refused.stdout.isEmpty)
        #expect(refused.stderr.contains("checksum mismatch"), "\(refused.stderr)")
        #expect(try Data(contentsOf: day.state) == bytes, "a refused file is left as it was")

        try Data("not a state file".utf8).write(to: day.state)
        let foreign = try day.detect(day.afternoon, ["--state", day.state.path])
        #expect(foreign.status == 65)
        #expect(foreign.stderr.contains("not a catpool state file"))

        let reset = try day.detect(day.afternoon, ["--state", day.state.path, "--state-reset"])
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(reset.stderr.contains("warning: state file"))
        let freshState = day.folder.appendingPathComponent("fresh.state")
        let fresh = try day.detect(day.afternoon, ["--state", freshState.path])
        #expect(reset.stdout == fresh.stdout, "a reset run is a fresh run")
        let continued = try day.detect(day.afternoon, ["--state", day.state.path])
        #expect(continued.status == 0, "the reset run saved a usable file")
    }

    @Test func aFailedRunLeavesTheStateFileAsItWas() throws {
        let day = try SplitDay()
        defer { try? FileManager.default.removeItem(at: day.folder) }
        #expect(try day.detect(day.morning, ["--state", day.state.path]).status == 0)
        let before = try Data(contentsOf: day.state)
        // The afternoon, cut off in the middle of its compressed stream: exit 65.
        let compressed = day.folder.appendingPathComponent("afternoon.csv.zst")
        let zstd = Process()
        zstd.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        zstd.arguments = ["zstd", "-q", "-f", day.afternoon.path, "-o", compressed.path]
        try zstd.run()
        zstd.waitUntilExit()
        let full = try Data(contentsOf: compressed)
        try full.prefix(full.count / 2).write(to: compressed)
        let failed = try day.detect(compressed, ["--state", day.state.path])
        #expect(failed.status == 65)
        #expect(try Data(contentsOf: day.state) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: day.folder.path)
            .filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    static func clusterIDs(_ output: String) -> [String] {
        output.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "\"cluster_id\":\"") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "\"" })
        }
    }
}
