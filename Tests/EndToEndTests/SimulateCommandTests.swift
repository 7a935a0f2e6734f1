import Foundation
import Testing

struct SimulateCommandTests {
    @Test func writesTheSameDayTwiceAndCheckReadsExactlyItsBadLines() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = [
            "simulate", "--seed", "9", "--subscribers", "2000", "--hours", "3", "--bad-rate",
            "0.002",
            "--disorder-s", "60", "--time-format", "compact", "--shuffle-columns",
            "--extra-columns", "2", "--crlf", "--look-alike-density", "call-centre=100",
            "--look-alike-density", "transport-hub=50",
        ]
        var outputs: [Data] = []
        for run in 0..<2 {
            let day = folder.appendingPathComponent("day\(run).csv.zst")
            let truth = folder.appendingPathComponent("truth\(run).json")
            let cells = folder.appendingPathComponent("cells\(run).csv")
            let result = try CatPoolBinary.run(
                arguments + ["--out", day.path, "--truth", truth.path, "--cells", cells.path])
            #expect(result.status == 0, "\(result.stderr)")
            outputs.append(
                try Data(contentsOf: day) + Data(contentsOf: truth) + Data(contentsOf: cells))
        }
        #expect(outputs[0] == outputs[1])

        let truth = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: folder.appendingPathComponent("truth0.json")))
                as? [String: Any])
        let badLines = try #require(truth["bad_lines"] as? [Int])
        let check = try CatPoolBinary.run([
            "check", "-q", "--timezone", "+08:00", "--rejects", "-",
            folder.appendingPathComponent("day0.csv.zst").path,
        ])
        #expect(check.status == 0, "\(check.stderr)")
        let rejected = check.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["line"]
                as? Int
        }
        #expect(!badLines.isEmpty && rejected == badLines)
        #expect((truth["boxes"] as? [Any])?.count == 12)
        // Densities per 100,000 subscribers: 2 call centres and a hub among 2,000; the other
        // kinds' defaults round to none in so small a town.
        let kinds = (truth["look_alikes"] as? [[String: Any]])?.compactMap { $0["kind"] as? String }
        #expect(kinds == ["call-centre", "call-centre", "transport-hub"])
    }

    @Test func scoresAnEmptyDetectorOutput() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let truth = folder.appendingPathComponent("truth.json")
        let simulate = try CatPoolBinary.run([
            "simulate", "--subscribers", "500", "--hours", "1", "--format", "csv", "--out",
            "/dev/null", "--truth", truth.path,
        ])
        #expect(simulate.status == 0, "\(simulate.stderr)")
        let score = try CatPoolBinary.run(["score", "--truth", truth.path], stdinBytes: [])
        #expect(score.status == 0)
        #expect(
            score.stdout.hasSuffix(
                "precision=1 recall=0 sim_recall=0 delay_p50_min=- fp=0 sim_precision=1\n"))
        let missing = try CatPoolBinary.run(
            ["score", "--truth", folder.appendingPathComponent("nope.json").path], stdinBytes: [])
        #expect(missing.status == 74)
    }

    @Test func refusesBadOptions() throws {
        #expect(try CatPoolBinary.run(["simulate", "--time-format", "roman"]).status == 64)
        #expect(try CatPoolBinary.run(["simulate", "--subscribers", "3"]).status == 64)
        #expect(try CatPoolBinary.run(["simulate", "--format", "xml"]).status == 64)
        for bad in [
            ["--look-alike-density", "call-centre"], ["--look-alike-density", "kiosk=3"],
            ["--look-alike-density", "call-centre=-1"], ["--late-share", "1.5"],
            ["--subscribers-per-site", "0"],
            ["--look-alikes", "1", "--look-alike-density", "dual-sim=2"],
        ] {
            let result = try CatPoolBinary.run(["simulate"] + bad)
            #expect(result.status == 64, "\(bad)")
            #expect(result.stderr.contains("--"), "\(bad): \(result.stderr)")
        }
    }
}
