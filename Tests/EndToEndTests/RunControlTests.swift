import CDRTestSupport
import Foundation
import Testing

/// Signals, `--metrics-file` and the progress line: the run as cron and a terminal see it.
@Suite(.serialized) struct RunControlTests {
    static let fixture = TestPaths.fixtures.appendingPathComponent("replay/box-one-cell")

    /// `catpool detect` on a live pipe, stopped by `signal` once its first decision is out.
    static func stopLiveRun(with signal: Int32) throws -> (
        status: Int32, stdout: String, stats: String, stateBefore: Data, stateAfter: Data
    ) {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let state = folder.appendingPathComponent("catpool.state")
        let cells = fixture.appendingPathComponent("cells.csv").path
        // A state file from an earlier run, which the stopped run must not touch.
        let earlier = try CatPoolBinary.run(
            ["detect", "-q", "--cells", cells, "--state", state.path],
            stdinBytes: Array("event_time,record_type,imsi,cell\n".utf8))
        #expect(earlier.status == 0, "\(earlier.stderr)")
        let stateBefore = try Data(contentsOf: state)

        let stats = folder.appendingPathComponent("stats.json")
        let process = Process()
        process.executableURL = CatPoolBinary.url
        process.arguments = [
            "detect", "-q", "--cells", cells, "--state", state.path, "--stats", stats.path,
        ]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let collector = LiveFeedTests.LineCollector(output.fileHandleForReading)
        try input.fileHandleForWriting.write(
            contentsOf: try Data(contentsOf: fixture.appendingPathComponent("input.csv")))
        // stdin stays open: a live feed that has gone quiet.
        #expect(collector.wait(for: "\"event\":\"flagged\"", seconds: 10) != nil)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        _ = collector.wait(for: "never", seconds: 2)
        try? input.fileHandleForWriting.close()
        return (
            process.terminationStatus, collector.lines.map(\.text).joined(separator: "\n"),
            (try? String(contentsOf: stats, encoding: .utf8)) ?? "", stateBefore,
            try Data(contentsOf: state)
        )
    }

    @Test(arguments: [(SIGTERM, Int32(143)), (SIGINT, Int32(130))])
    func stopsCleanlyOnASignal(signal: Int32, status: Int32) throws {
        let run = try Self.stopLiveRun(with: signal)
        #expect(run.status == status)
        #expect(run.stdout.contains("\"event\":\"flagged\""), "decisions so far are out")
        // The statistics are written, counting what was read before the signal: at least the
        // records up to the flagging window (the signal can come before the rest is parsed).
        let stats = try JSONSerialization.jsonObject(with: Data(run.stats.utf8)) as? [String: Any]
        let records = try #require(stats?["records"] as? Int, "the statistics are written")
        #expect((300...2125).contains(records), "\(run.stats)")
        #expect(run.stateAfter == run.stateBefore, "the state file is left as it was")
    }

    @Test func writesPrometheusMetricsAndKeepsTheLastSuccessAfterAFailure() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let metrics = folder.appendingPathComponent("catpool.prom")
        let good = try CatPoolBinary.run(
            [
                "detect", "-q", "--metrics-file", metrics.path, "--cells",
                Self.fixture.appendingPathComponent("cells.csv").path,
                Self.fixture.appendingPathComponent("input.csv.zst").path,
            ])
        #expect(good.status == 0, "\(good.stderr)")
        let first = try String(contentsOf: metrics, encoding: .utf8)
        for line in [
            "catpool_records{type=\"MOC\"} 1085", "catpool_rejected_lines{reason=\"bad_imsi\"} 0",
            "catpool_late_records 0", "catpool_clusters{event=\"flagged\"} 1",
            "catpool_exit_status 0", "# TYPE catpool_run_seconds gauge",
        ] {
            #expect(first.contains(line + "\n"), "\(line)")
        }
        let lastSuccess = try #require(
            first.split(separator: "\n").first {
                $0.hasPrefix("catpool_last_success_timestamp_seconds ")
            })
        #expect(!lastSuccess.hasSuffix(" 0"))

        let corrupt = TestPaths.fixtures.appendingPathComponent("errors/corrupt-zstd/input.csv.zst")
        let bad = try CatPoolBinary.run([
            "check", "-q", "--metrics-file", metrics.path, corrupt.path,
        ])
        #expect(bad.status == 65)
        let second = try String(contentsOf: metrics, encoding: .utf8)
        #expect(second.contains("catpool_exit_status 65\n"))
        #expect(second.contains(lastSuccess + "\n"), "the last success is carried over")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(leftovers == ["catpool.prom"], "written atomically, nothing left beside it")
    }

    @Test func showsProgressOnlyWhenAskedOrOnATerminal() throws {
        let input = Self.fixture.appendingPathComponent("input.csv.zst").path
        let shown = try CatPoolBinary.run(["check", "--progress", input])
        #expect(shown.status == 0)
        #expect(shown.stderr.contains("\r\u{1B}[K"), "redrawn in place")
        #expect(shown.stderr.contains(" records ("))
        let quiet = try CatPoolBinary.run(["check", input])
        #expect(!quiet.stderr.contains("\r"), "stderr is a file here, not a terminal")
        let refused = try CatPoolBinary.run(["check", "--no-progress", input])
        #expect(!refused.stderr.contains("\r"))
    }
}
