import CDRInput
import CDRPipeline
import CDRRecords
import CDRSimulation
import CDRTestSupport
import Foundation
import SIMBoxDetection
import Testing

struct PipelineTests {
    /// Runs inputs through decoder and pipeline, as the executable does, feeding `chunkSize` bytes at a time.
    static func run(
        _ inputs: [(name: String, bytes: [UInt8])],
        configuration: PipelineConfiguration = PipelineConfiguration(),
        chunkSize: Int = 64 * 1024
    ) throws -> (statistics: RunStatistics, output: PipelineOutput) {
        var pipeline = try Pipeline(configuration: configuration)
        var output = PipelineOutput()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { buffer.deallocate() }
        for input in inputs {
            try pipeline.feed(.begin(name: input.name), into: &output)
            let decoder = StreamDecoder()
            var isCutShort = false
            do {
                for chunk in chunks(input.bytes, size: chunkSize) {
                    try chunk.withUnsafeBytes {
                        try decoder.feed($0, using: buffer) {
                            try pipeline.feed(.bytes($0), into: &output)
                        }
                    }
                }
                try decoder.finish(using: buffer) { try pipeline.feed(.bytes($0), into: &output) }
            } catch is InputError {
                isCutShort = true
            }
            try pipeline.feed(
                .end(
                    bytesIn: decoder.bytesIn, format: decoder.format, isCutShort: isCutShort),
                into: &output)
        }
        return (pipeline.statistics, output)
    }

    static func rejectLines(_ output: PipelineOutput) throws -> [(
        line: Int, reason: String, text: String
    )] {
        try String(decoding: output.rejects, as: UTF8.self).split(separator: "\n").map { line in
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return (
                try #require(object["line"] as? Int), try #require(object["reason"] as? String),
                try #require(object["text"] as? String)
            )
        }
    }

    @Test(arguments: SyntheticDump.TimeForm.allCases)
    func reportsExactlyTheBrokenLinesOfAMessyDump(timeForm: SyntheticDump.TimeForm) throws {
        var options = SyntheticDump.Options()
        options.records = 20_000
        options.badLines = 300
        options.seed = 42
        options.columns = [
            "cell", "operator", "duration_s", "peer", "imsi", "record_type", "imei", "event_time",
            "switch_id", "msisdn",
        ]
        options.timeForm = timeForm
        options.lineEnding = "\r\n"
        let dump = SyntheticDump(options)
        var configuration = PipelineConfiguration()
        configuration.collectsRejects = true
        let (statistics, output) = try Self.run(
            [("day.csv.zst", Compression.zstd(dump.bytes, frames: 3))], configuration: configuration
        )

        let rejects = try Self.rejectLines(output)
        #expect(
            Dictionary(uniqueKeysWithValues: rejects.map { ($0.line, $0.reason) })
                == dump.badLines.mapValues(\.rawValue))
        #expect(statistics.rejected == 300)
        #expect(statistics.records == dump.goodRecords)
        #expect(statistics.lines == 20_301)
        #expect(
            statistics.firstEventTime == dump.eventTimes.min()
                && statistics.lastEventTime == dump.eventTimes.max())
        for type in RecordType.allCases {
            #expect(
                statistics.recordsByType[Int(type.rawValue)] == dump.recordsByType[type, default: 0]
            )
        }
        for (reason, count) in zip(RejectReason.allCases, statistics.rejectedByReason) {
            #expect(count == dump.badLines.values.filter { $0 == reason }.count)
        }
        #expect(rejects.allSatisfy { !$0.text.hasSuffix("\r") })
    }

    /// Cells take ids in the order their records come, whatever their type: records the
    /// detector does not use (SMS) name cells too, so with the cell cap (1,024 here) filled by
    /// them, calls at new cells are shed and calls at known ones are not, however the
    /// records fall into batches and chunks.
    @Test(arguments: [64, 4096, 1 << 16])
    func shedsCallsAtCellsPastTheCapInOrderOfFirstAppearance(chunkSize: Int) throws {
        var lines = ["event_time,record_type,imsi,imei,msisdn,peer,duration_s,cell"]
        func line(_ type: String, _ sim: Int, _ cell: String) -> String {
            "2026-11-20T08:00:\(String(format: "%02d", sim % 60))Z,\(type),46000000000\(String(format: "%04d", sim)),"
                + "35391110797\(String(format: "%04d", sim)),8613000\(String(format: "%06d", sim)),"
                + "8618500000001,\(type == "MOC" ? "30" : ""),\(cell)"
        }
        for index in 0..<1024 { lines.append(line("SMS_MO", index % 50, "460-00-1-\(index)")) }
        for index in 0..<10 { lines.append(line("MOC", index, "460-00-2-\(index)")) }
        for index in 0..<5 { lines.append(line("MOC", index, "460-00-1-\(index)")) }
        lines.append(line("MOC", 7, "cell-with-letters"))
        let detection = PipelineConfiguration.Detection(limits: StateLimits(maxBytes: 1 << 19))
        #expect(detection.limits.maxCells == 1024)
        let (statistics, _) = try Self.run(
            [("day.csv", Array((lines.joined(separator: "\n") + "\n").utf8))],
            configuration: PipelineConfiguration(detection: detection), chunkSize: chunkSize)
        #expect(statistics.records == 1040)
        #expect(statistics.shedRecords == 11)
    }

    @Test func zstdGzipAndPlainGiveTheSameCounts() throws {
        var options = SyntheticDump.Options()
        options.records = 5000
        options.badLines = 20
        let dump = SyntheticDump(options)
        var configuration = PipelineConfiguration()
        configuration.collectsRejects = true
        let runs = try [
            dump.bytes, Compression.zstd(dump.bytes, frames: 2),
            Compression.gzip(dump.bytes, members: 3),
        ].map {
            try Self.run([("dump", $0)], configuration: configuration, chunkSize: 777)
        }
        for run in runs.dropFirst() {
            #expect(run.statistics.recordsByType == runs[0].statistics.recordsByType)
            #expect(run.statistics.rejectedByReason == runs[0].statistics.rejectedByReason)
            #expect(run.output.rejects == runs[0].output.rejects)
        }
        #expect(runs.map { $0.statistics.inputs[0].format } == [.plain, .zstd, .gzip])
    }

    @Test func readsEachInputByItsOwnHeaderAndSkipsRepeatedHeaders() throws {
        let first =
            "event_time,record_type,imsi,cell\n2026-11-20T00:00:00Z,MOC,460001234567890,c1\n"
        let second =
            "# exported by switch 2\ncell;imsi;record_type;event_time\nc2;460001234567891;MTC;2026-11-20T00:00:01Z\n"
        let concatenated =
            first
            + "event_time,record_type,imsi,cell\n2026-11-20T00:00:02Z,SMS_MO,460001234567892,c3\n"
            + "cell,imsi,record_type,event_time\nc4,460001234567893,DATA,2026-11-20T00:00:03Z\n"
        let (statistics, output) = try Self.run([
            ("a.csv", Array(first.utf8)), ("b.csv", Array(second.utf8)),
            ("c.csv", Array(concatenated.utf8)),
        ])
        #expect(statistics.records == 5)
        #expect(statistics.rejected == 0, "\(output.warnings)")
        #expect(
            statistics.headers == 4 && statistics.repeatedHeaders == 1 && statistics.comments == 1)
        #expect(statistics.inputs.map(\.lines) == [2, 3, 6])
    }

    /// Each input's counts are its own, and they add up to the run's; each record type has
    /// its count (they are kept in place, not in arrays, as every line adds to them).
    @Test func countsEachInputApartAndEveryRecordType() throws {
        let header = "event_time,record_type,imsi,cell\n"
        let first = header + "2026-11-20T00:00:00Z,MOC,460001234567890,c1\n"
        let second =
            header + "2026-11-20T00:00:01Z,MTC,460001234567891,c1\n"
            + "2026-11-20T00:00:02Z,SMS_MO,460001234567892,c2\n"
            + "2026-11-20T00:00:03Z,MOC,46000123456789X,c2\n"
            + "2026-11-20T00:00:04Z,SMS_MT,460001234567893,c3\n"
        let third = header + "2026-11-20T00:00:05Z,DATA,460001234567894,c3"
        let (statistics, _) = try Self.run([
            ("a.csv", Array(first.utf8)), ("b.csv", Array(second.utf8)),
            ("c.csv", Array(third.utf8)),
        ])
        #expect(statistics.recordsByType.count == RecordType.allCases.count)
        #expect(statistics.recordsByType == [1, 1, 1, 1, 1])
        #expect(statistics.inputs.map(\.name) == ["a.csv", "b.csv", "c.csv"])
        #expect(statistics.inputs.map(\.lines) == [2, 5, 2])
        #expect(statistics.inputs.map(\.records) == [1, 3, 1])
        #expect(statistics.inputs.map(\.rejected) == [0, 1, 0])
        #expect(statistics.inputs.map(\.bytesDecoded) == [first, second, third].map(\.utf8.count))
        #expect(statistics.inputs.map(\.format) == [.plain, .plain, .plain])
        #expect(statistics.inputs.map(\.lines).reduce(0, +) == statistics.lines)
        #expect(statistics.inputs.map(\.records).reduce(0, +) == statistics.records)
    }

    /// `--stats` writes the threads as given, in that order, and no `threads` without them.
    @Test func statsWriteTheThreadsGivenAndNoneWithout() throws {
        let statistics = RunStatistics()
        let plain = String(decoding: statistics.json(seconds: 2), as: UTF8.self)
        #expect(!plain.contains("threads"))
        let threads = [
            ThreadUse(
                name: "reader", cpuSeconds: 1.25,
                waits: [ThreadUse.Wait(on: "parser", seconds: 0.5, count: 3)]),
            ThreadUse(
                name: "parser", cpuSeconds: 0.25,
                waits: [
                    ThreadUse.Wait(on: "reader", seconds: 0.125, count: 1),
                    ThreadUse.Wait(on: "detector", seconds: 0, count: 0),
                ]),
        ]
        let text = String(decoding: statistics.json(seconds: 2, threads: threads), as: UTF8.self)
        #expect(
            text.hasSuffix(
                "\"seconds\":2,\"threads\":{"
                    + "\"reader\":{\"cpu_s\":1.25,\"waited_s\":{\"parser\":0.5},"
                    + "\"waits\":{\"parser\":3}},"
                    + "\"parser\":{\"cpu_s\":0.25,\"waited_s\":{\"reader\":0.125,\"detector\":0},"
                    + "\"waits\":{\"reader\":1,\"detector\":0}}}}\n"), "\(text)")
        #expect(text.dropLast().hasPrefix(plain.dropLast(2)))
    }

    /// The summary line counts clusters in words that agree with the count.
    @Test func summaryLineSaysClusterOrClusters() {
        var statistics = RunStatistics()
        #expect(!statistics.summary(seconds: 1).contains("flagged"))
        for (flagged, words) in [
            (0, "0 clusters flagged"), (1, "1 cluster flagged"), (2, "2 clusters flagged"),
        ] {
            statistics.decisions["flagged"] = flagged
            #expect(statistics.summary(seconds: 1).contains("; \(words);"))
        }
    }

    /// The summary's time and rate read right from a fixture's few milliseconds to a day's
    /// minutes, and an input with no lines gives no rate at all.
    @Test func summaryLineGivesTimeAndRateInUnitsThatFit() {
        var statistics = RunStatistics()
        #expect(statistics.summary(seconds: 1).hasPrefix("0 lines, 0 records, 0 rejected;"))
        statistics.lines = 1
        #expect(statistics.summary(seconds: 1).hasPrefix("1 line, 0 records, 0 rejected;"))
        statistics.lines = 0
        #expect(statistics.summary(seconds: 0.0004).hasSuffix("; 0 bytes in 0.4 ms"))
        #expect(statistics.summary(seconds: 2).hasSuffix("; 0 bytes in 2 s"))
        statistics.otherTypes = 2125
        statistics.bytesDecoded = 222_925
        #expect(
            statistics.summary(seconds: 0.0017).hasSuffix(
                "; 222925 bytes in 1.7 ms (1.25 M lines/s)"))
        #expect(statistics.summary(seconds: 0.0005).hasSuffix("bytes in 0.5 ms"))
        statistics.rejectedByReason[0] = 875
        #expect(statistics.summary(seconds: 2).hasSuffix("in 2 s (1.5 K lines/s)"))
        #expect(statistics.summary(seconds: 0.25).hasSuffix("in 0.25 s (12 K lines/s)"))
        #expect(statistics.summary(seconds: 300).hasSuffix("in 300 s (10 lines/s)"))
        #expect(statistics.summary(seconds: 6000).hasSuffix("in 6000 s (0.5 lines/s)"))
        // Under a hundredth of a line a second no digit would show: no rate.
        #expect(statistics.summary(seconds: 600_000).hasSuffix("in 600000 s"))
        #expect(statistics.summary(seconds: -1).hasSuffix("in 0 ms"))
        #expect(statistics.summary(seconds: .nan).hasSuffix("in 0 ms"))
        #expect(statistics.summary(seconds: .infinity).hasSuffix("in 0 ms"))
        for (lines, rate) in [(999_499, "999 K"), (999_500, "1 M"), (7_812_345, "7.81 M")] {
            statistics.otherTypes = lines - 875
            #expect(statistics.summary(seconds: 1).hasSuffix("in 1 s (\(rate) lines/s)"))
        }
    }

    @Test func stopsAtAHeaderWithoutRequiredColumns() throws {
        #expect(throws: PipelineError.self) {
            _ = try Self.run([("x.csv", Array("time,imsi\n1,2\n".utf8))])
        }
    }

    @Test func readsHeaderlessInputWithGivenColumns() throws {
        var configuration = PipelineConfiguration()
        configuration.columnLayout = try ColumnLayout(
            columnNames: ["imsi", "event_time", "record_type", "cell"], delimiter: 0x7C)
        let text = "460001234567890|20261120000000|MOC|c1\n460001234567891|20261120000001|MTC|c1"
        let (statistics, _) = try Self.run([("-", Array(text.utf8))], configuration: configuration)
        #expect(statistics.records == 2 && statistics.headers == 0)
    }

    @Test func rejectsOverlongLinesAndCutsReportedTextAt1KiB() throws {
        var configuration = PipelineConfiguration()
        configuration.collectsRejects = true
        configuration.maxLineBytes = 2000
        let long = "2026-11-20T00:00:00Z,MOC,460001234567890," + String(repeating: "é", count: 700)
        let text =
            "event_time,record_type,imsi,cell\n\(long)\n\(String(repeating: "x", count: 5000))\n2026-11-20T00:00:00Z,MOC,460001234567890,c1\n"
        let (statistics, output) = try Self.run(
            [("f", Array(text.utf8))], configuration: configuration, chunkSize: 100)
        let rejects = try Self.rejectLines(output)
        #expect(rejects.map(\.line) == [2, 3])
        #expect(rejects.map(\.reason) == ["bad_cell", "line_too_long"])
        #expect(rejects.allSatisfy { $0.text.utf8.count <= 1024 })
        #expect(!rejects[0].text.contains("\u{FFFD}"), "a cut must not split a UTF-8 character")
        #expect(statistics.records == 1)
    }

    @Test func rejectsTheCutOffLastLineOfATruncatedStream() throws {
        var options = SyntheticDump.Options()
        options.records = 40_000
        let dump = SyntheticDump(options)
        let compressed = Compression.zstd(dump.bytes)
        var configuration = PipelineConfiguration()
        configuration.collectsRejects = true
        let (statistics, output) = try Self.run(
            [("t.zst", Array(compressed.prefix(compressed.count / 2)))],
            configuration: configuration)
        #expect(statistics.records > 0 && statistics.records < dump.goodRecords)
        #expect(
            statistics.rejectedByReason[RejectReason.allCases.firstIndex(of: .truncatedInput) ?? 0]
                == 1)
        #expect(try Self.rejectLines(output).map(\.reason) == ["truncated_input"])
    }

    @Test func describesOnlyTheFirstRejectsOnStderr() throws {
        var options = SyntheticDump.Options()
        options.records = 100
        options.badLines = 50
        let (_, output) = try Self.run([("d", SyntheticDump(options).bytes)])
        #expect(output.warnings.count == 11)
        guard case .rejectedLine("d", _, _) = output.warnings.first else {
            Issue.record("the first reject is described: \(output.warnings)")
            return
        }
        #expect(output.warnings.last == .furtherRejectsNotDescribed)
    }
}
