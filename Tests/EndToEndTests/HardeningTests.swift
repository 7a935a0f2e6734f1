import CDRTestSupport
import Foundation
import Testing

/// Rows of #13 about the executable (9, 12, 18).
///
/// Flag ranges, outputs written on every ending, and input bytes kept off the terminal.
/// Each run has a timeout and must end with its documented status, never a signal.
struct HardeningTests {
    static let fixture = TestPaths.fixtures.appendingPathComponent("replay/box-one-cell")

    @Test(arguments: ["17592186044416", "9223372036854775807", "1000000", "15"])
    func refusesAStateCapOutsideItsRange(megabytes: String) throws {
        let result = try CatPoolBinary.run(
            ["--max-state-mb", megabytes, "/dev/null"], timeout: 60)
        #expect(result.status == 64)
        #expect(result.stderr.contains("--max-state-mb must be between 16 and "))
        #expect(result.stderr.contains("not \(megabytes)"))
    }

    @Test func acceptsAStateCapWithinItsRange() throws {
        let result = try CatPoolBinary.run(
            [
                "-q", "--max-state-mb", "4096",
                Self.fixture.appendingPathComponent("input.csv.zst").path,
            ],
            timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.isEmpty)
    }

    @Test func writesStatisticsAndMetricsWhenStdoutIsClosedEarly() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("broken.csv")
        // Enough rejected lines on stdout that `head` closes it long before the end.
        let body = String(repeating: "x,MOC,460001234567890,c1\n", count: 200_000)
        try Data(("event_time,record_type,imsi,cell\n" + body).utf8).write(to: input)
        let script =
            "'\(CatPoolBinary.url.path)' check -q --max-reject-ratio 1 --rejects - "
            + "--stats stats.json --metrics-file catpool.prom broken.csv | head -c 100 >/dev/null; "
            + "echo \"${PIPESTATUS[0]}\""
        let shell = try CatPoolBinary.shell(script, in: folder, timeout: 60)
        #expect(shell.stdout == "0\n", "\(shell.stderr)")
        #expect(shell.stderr.isEmpty, "\(shell.stderr)")
        let (stats, metrics) = try Self.endingFiles(in: folder)
        #expect(stats.hasPrefix("{\"lines\":"))
        #expect(metrics.contains("\ncatpool_exit_status 0\n"))
    }

    /// The `stats.json` and `catpool.prom` a run wrote in `folder`.
    static func endingFiles(in folder: URL) throws -> (stats: String, metrics: String) {
        (
            try String(contentsOf: folder.appendingPathComponent("stats.json"), encoding: .utf8),
            try String(contentsOf: folder.appendingPathComponent("catpool.prom"), encoding: .utf8)
        )
    }

    @Test func writesStatisticsAndMetricsWhenStdoutCannotBeWritten() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = Self.fixture.appendingPathComponent("input.csv.zst").path
        let shell = try CatPoolBinary.shell(
            "'\(CatPoolBinary.url.path)' -q --stats stats.json --metrics-file catpool.prom "
                + "'\(input)' >/dev/full; echo $?", in: folder, timeout: 120)
        #expect(shell.stdout == "74\n")
        #expect(shell.stderr.contains("cannot write stdout: No space left on device"))
        let (stats, metrics) = try Self.endingFiles(in: folder)
        #expect(stats.contains("\"records\":2125"))
        #expect(metrics.contains("\ncatpool_exit_status 74\n"))
    }

    @Test func escapesControlBytesOfTheInputInMessages() throws {
        let line = "2026-11-20T00:00:00Z,MOC,4600\u{1B}]0;owned\u{07}12\u{0}3,c1\n"
        let result = try CatPoolBinary.run(
            ["check", "--max-reject-ratio", "1"],
            stdinBytes: Array(("event_time,record_type,imsi,cell\n" + line).utf8), timeout: 60)
        #expect(result.status == 0)
        #expect(result.stderr.contains(#"got "4600\x1b]0;owned\x0712\x003""#), "\(result.stderr)")
        #expect(!result.stderr.utf8.contains { $0 < 0x20 && $0 != 0x0A })
    }

    /// A cell table is state too (#13 row 19): 200,000 cells load in seconds, count under the
    /// cap, and a table larger than half of it is refused before any input is read.
    @Test func countsTheCellTableUnderTheCap() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cells = folder.appendingPathComponent("cells.csv")
        var table = "cell,site,lat,lon\n"
        for index in 0..<200_000 {
            table += "460-00-\(4000 + index / 64)-\(10_000 + index),S\(index / 3),31.2,121.4\n"
        }
        try Data(table.utf8).write(to: cells)
        let input = Self.fixture.appendingPathComponent("input.csv.zst").path
        let refused = try CatPoolBinary.run(
            ["detect", "-q", "--max-state-mb", "16", "--cells", cells.path, "/dev/zero"],
            timeout: 60)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("holds 200000 cells, about"), "\(refused.stderr)")
        #expect(refused.stderr.contains("more than half of --max-state-mb 16"))
        let accepted = try CatPoolBinary.run(
            ["detect", "-q", "--max-state-mb", "128", "--cells", cells.path, input], timeout: 60)
        #expect(accepted.status == 0, "\(accepted.stderr)")
    }
}
