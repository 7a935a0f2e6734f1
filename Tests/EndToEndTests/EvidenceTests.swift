import CDRTestSupport
import Foundation
import Testing

/// `detect --evidence`: every record of each cluster's SIMs, traced to its input and line,
/// against an independent oracle over the input text (issue #12).
struct EvidenceTests {
    @Test func evidenceLinesAreExactlyTheClustersRecordsWithTheirInputsLines() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let simulate = try CatPoolBinary.run(
            [
                "simulate", "--seed", "5", "--subscribers", "2000", "--hours", "8", "--boxes", "3",
                "--box-kinds", "standard,mobile,sim-bank", "--look-alikes", "0", "--format", "csv",
                "--out", "day.csv",
            ], in: folder, timeout: 120)
        #expect(simulate.status == 0, "\(simulate.stderr)")
        // The day in two inputs, the second gzip-compressed: lines are numbered per input.
        let day = try String(contentsOf: folder.appendingPathComponent("day.csv"), encoding: .utf8)
        let rows = day.split(separator: "\n").map(String.init)
        let half = rows.count / 2
        let first = rows[..<half].joined(separator: "\n") + "\n"
        let second = ([rows[0]] + rows[half...]).joined(separator: "\n") + "\n"
        try Data(first.utf8).write(to: folder.appendingPathComponent("a.csv"))
        try Data(Compression.gzip(Array(second.utf8))).write(
            to: folder.appendingPathComponent("b.csv.gz"))

        let plain = try CatPoolBinary.run(
            ["detect", "-q", "a.csv", "b.csv.gz"], in: folder, timeout: 120)
        let traced = try CatPoolBinary.run(
            ["detect", "-q", "--evidence", "evidence.jsonl", "a.csv", "b.csv.gz"], in: folder,
            timeout: 120)
        #expect(traced.status == 0, "\(traced.stderr)")
        #expect(traced.stdout == plain.stdout, "--evidence leaves the decisions as they were")
        let decisions = try traced.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(Set(decisions.compactMap { $0["cluster_id"] as? String }).count >= 2)

        let texts = [
            "a.csv": first.split(separator: "\n", omittingEmptySubsequences: false),
            "b.csv.gz": second.split(separator: "\n", omittingEmptySubsequences: false),
        ]
        let written = try String(
            contentsOf: folder.appendingPathComponent("evidence.jsonl"), encoding: .utf8)
        var got: [EvidenceOracle.Line] = []
        for line in written.split(separator: "\n") {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Array(object.keys).sorted() == ["cluster_id", "input", "line", "text"])
            let input = try #require(object["input"] as? String)
            let number = try #require(object["line"] as? Int)
            let text = try #require(object["text"] as? String)
            // Every line's text is its input line, verbatim.
            let lines = try #require(texts[input])
            #expect(number >= 2 && number <= lines.count && String(lines[number - 1]) == text)
            got.append(
                EvidenceOracle.Line(
                    clusterID: try #require(object["cluster_id"] as? String), input: input,
                    line: number, text: text))
        }
        let expected = try EvidenceOracle.lines(
            inputs: [("a.csv", first), ("b.csv.gz", second)], decisions: decisions)
        #expect(!expected.isEmpty)
        // Coverage per SIM as defined: at least 99 % of each SIM's expected lines.
        let gotSet = Set(got.map { "\($0.clusterID) \($0.input) \($0.line)" })
        var perSIM: [String: (expected: Int, found: Int)] = [:]
        for line in expected {
            let found = gotSet.contains("\(line.clusterID) \(line.input) \(line.line)") ? 1 : 0
            let key = "\(line.clusterID) \(line.imsi)"
            perSIM[key] = (
                perSIM[key, default: (0, 0)].expected + 1,
                perSIM[key, default: (0, 0)].found + found
            )
        }
        for (sim, counts) in perSIM {
            #expect(Double(counts.found) >= 0.99 * Double(counts.expected), "\(sim): \(counts)")
        }
        // And nothing else, each once: in fact the same lines, exactly.
        #expect(got.count == gotSet.count)
        let expectedSet = Set(expected.map { "\($0.clusterID) \($0.input) \($0.line)" })
        #expect(gotSet.subtracting(expectedSet).isEmpty)
        #expect(got.count == expected.count)
    }

    @Test func evidenceOnStdoutIsRefusedBecauseStdoutCarriesTheDecisions() throws {
        let result = try CatPoolBinary.run(
            ["detect", "--evidence", "-", "x.csv"], stdinBytes: [], timeout: 60)
        #expect(result.status == 64)
        #expect(result.stderr.contains("--evidence -: stdout carries the decisions"))
    }
}
