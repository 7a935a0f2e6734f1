import CDRTestSupport
import Foundation
import Testing

/// The binary as a Unix citizen: exit statuses, files in order, rejects and statistics files.
struct CommandLineTests {
    static func messyDump() -> SyntheticDump {
        var options = SyntheticDump.Options()
        options.records = 30_000
        options.badLines = 400
        options.seed = 2026
        options.columns = [
            "imsi", "load_id", "event_time", "cell", "record_type", "peer", "duration_s", "imei",
            "msisdn", "region",
        ]
        options.timeForm = .compact
        options.lineEnding = "\r\n"
        return SyntheticDump(options)
    }

    @Test func rejectsFileListsExactlyTheBrokenLinesAndStatsCountThem() throws {
        let dump = Self.messyDump()
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("day.csv.zst")
        try Data(Compression.zstd(dump.bytes, frames: 4)).write(to: input)
        let rejects = folder.appendingPathComponent("rejects.jsonl")
        let stats = folder.appendingPathComponent("stats.json")
        let result = try CatPoolBinary.run([
            "check", "--rejects", rejects.path, "--stats", stats.path, input.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)

        let lines = try String(contentsOf: rejects, encoding: .utf8).split(separator: "\n")
        var reported: [Int: String] = [:]
        for line in lines {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["input"] as? String == input.path)
            reported[try #require(object["line"] as? Int)] = object["reason"] as? String
        }
        #expect(reported == dump.badLines.mapValues(\.rawValue))

        let statistics = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: stats)) as? [String: Any])
        #expect(statistics["rejected"] as? Int == 400)
        #expect(statistics["records"] as? Int == dump.goodRecords)
        #expect(statistics["lines"] as? Int == 30_401)
        let byReason = try #require(statistics["rejected_by_reason"] as? [String: Int])
        for (reason, count) in byReason {
            #expect(
                count == dump.badLines.values.filter { $0.rawValue == reason }.count, "\(reason)")
        }
        #expect(statistics["first_event_time"] as? String == dump.eventTimes.min()?.description)
        #expect(statistics["bytes_decoded"] as? Int == dump.bytes.count)
        // The summary line names the rejected count.
        #expect(result.stderr.contains("400 rejected"))
    }

    @Test func readsFilesInOrderAsOneStream() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = folder.appendingPathComponent("00.csv.gz")
        let second = folder.appendingPathComponent("01.csv")
        try Data(
            Compression.gzip(
                Array(
                    "event_time,record_type,imsi,cell\n2026-11-20T00:00:00Z,MOC,460001234567890,c1\n"
                        .utf8))
        ).write(to: first)
        try Data(
            "cell,imsi,record_type,event_time\nc2,460001234567891,MTC,2026-11-20T01:00:00Z\nc2,x,MTC,2026-11-20T01:00:01Z\n"
                .utf8
        ).write(to: second)
        let result = try CatPoolBinary.run([
            "check", "-q", "--rejects", "-", "--stats", "-", "--max-reject-ratio", "1", first.path,
            second.path,
        ])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(
            lines[0].contains("\"input\":\"\(second.path)\",\"line\":3,\"reason\":\"bad_imsi\""))
        #expect(lines[1].contains("\"records\":2,"))
        #expect(
            lines[1].contains("\"format\":\"gzip\"") && lines[1].contains("\"format\":\"plain\""))
    }

    @Test func exitsWithDocumentedStatuses() throws {
        #expect(try CatPoolBinary.run(["check", "--delimiter", "x"]).status == 64)
        #expect(try CatPoolBinary.run(["check", "--timezone", "Mars"]).status == 64)
        #expect(try CatPoolBinary.run(["check", "--map", "nonsense=col"]).status == 64)
        #expect(try CatPoolBinary.run(["detect", "--state-reset"]).status == 64)
        #expect(try CatPoolBinary.run(["detect", "--max-state-mb", "8"]).status == 64)
        let missing = try CatPoolBinary.run(["check", "/nonexistent/day.csv.zst"])
        #expect(missing.status == 74)
        #expect(missing.stderr.contains("cannot read /nonexistent/day.csv.zst"))
        let strict = try CatPoolBinary.run(
            ["check", "--strict"],
            stdinBytes: Array("event_time,record_type,imsi,cell\nx,MOC,1,c\n".utf8))
        #expect(strict.status == 65)
        #expect(strict.stderr.contains("-:2: bad_time"))
        // An empty input is no error, but it is said, even under -q (#16).
        let empty = try CatPoolBinary.run(["check", "-q"], stdinBytes: [])
        #expect(empty.status == 0)
        #expect(empty.stderr == "catpool: warning: no records read: stdin is empty\n")
    }

    @Test func printsVersionAndHelpWithExitStatuses() throws {
        let version = try CatPoolBinary.run(["--version"])
        #expect(version.status == 0 && !version.stdout.isEmpty)
        let help = try CatPoolBinary.run(["check", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("Exit status") && help.stdout.contains("--max-reject-ratio"))
        let detectHelp = try CatPoolBinary.run(["detect", "--help"])
        for text in [
            "Examples:", "--state", "--state-reset", "--max-state-mb", "--metrics-file",
            "--progress", "130 and 143",
        ] {
            #expect(detectHelp.stdout.contains(text), "\(text)")
        }
        for shell in ["bash", "zsh", "fish"] {
            let script = try CatPoolBinary.run(["--generate-completion-script", shell])
            #expect(script.status == 0)
            #expect(script.stdout.contains("max-state-mb") && script.stdout.contains("simulate"))
        }
    }

    @Test func holdsTheStateCapUnderAKeyExplosionAndSaysSo() throws {
        // 120,000 records in one hour, each from a new SIM on a new cell: more than 16 MiB
        // of state can hold (58,000 SIMs, 32,000 cells).
        var text = "event_time,record_type,imsi,imei,msisdn,peer,duration_s,cell\n"
        for index in 0..<120_000 {
            let second = index * 3600 / 120_000
            text +=
                "2026-11-20T10:\(String(100 + second / 60).suffix(2)):\(String(100 + second % 60).suffix(2))Z,"
            text += "MOC,46003\(1_000_000_000 + index),35693803\(100_000 + index % 900_000),"
            text += "86170\(10_000_000 + index),86150\(10_000_000 + index),30,"
            text += "460-00-\(4000 + index / 50_000)-\(10_000 + index % 50_000)\n"
        }
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try CatPoolBinary.run(
            ["detect", "--max-state-mb", "16", "--stats", "stats.json"],
            stdinBytes: Array(text.utf8), in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("warning: detector state is full (--max-state-mb 16)"))
        let stats = String(
            decoding: try Data(contentsOf: folder.appendingPathComponent("stats.json")),
            as: UTF8.self)
        let state = try #require(stats.range(of: "\"detector_state\":{")).upperBound
        let object = stats[state...].prefix { $0 != "}" }
        func number(_ key: String) -> Int? {
            guard let range = object.range(of: "\"\(key)\":") else { return nil }
            return Int(object[range.upperBound...].prefix { $0.isNumber })
        }
        #expect((number("peak_bytes") ?? .max) <= 16 << 20)
        #expect((number("peak_sims") ?? .max) <= 16 << 20 / 2 / 144)
        #expect((number("shed_records") ?? 0) > 60_000)
    }

    @Test(arguments: ["detect", "check"])
    func statsSayHowEachThreadSpentTheRun(command: String) throws {
        // Issue #11: which of the reader, the parser and the detector waited, and for whom.
        let fixture = Fixture(
            folder: TestPaths.fixtures.appendingPathComponent("replay/box-sim-bank"))
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let stats = folder.appendingPathComponent("stats.json")
        var arguments = [command, "-q", "--stats", stats.path]
        if command == "detect" { arguments += ["--cells", fixture.file("cells.csv").path] }
        let result = try CatPoolBinary.run(arguments + [fixture.input.path])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: stats)) as? [String: Any])
        let seconds = try #require(object["seconds"] as? Double)
        let threads = try #require(object["threads"] as? [String: [String: Any]])
        let expected: [String: [String]] =
            command == "detect"
            ? ["reader": ["parser"], "parser": ["reader", "detector"], "detector": ["parser"]]
            : ["reader": ["parser"], "parser": ["reader"]]
        #expect(Set(threads.keys) == Set(expected.keys))
        // In pipeline order, whichever thread ended first.
        let text = try String(contentsOf: stats, encoding: .utf8)
        let names = ["reader", "parser", "detector"].filter { expected[$0] != nil }
        let places = try names.map {
            try #require(text.range(of: "\"\($0)\":{\"cpu_s\"")).lowerBound
        }
        #expect(places == places.sorted())
        for (name, waitedOn) in expected {
            let thread = try #require(threads[name])
            // No thread uses more CPU, or waits longer, than the run lasted.
            let cpu = try #require(thread["cpu_s"] as? Double, "\(name) has no CPU time")
            #expect(cpu >= 0 && cpu <= seconds + 0.01, "\(name): \(cpu) s of \(seconds) s")
            let waited = try #require(thread["waited_s"] as? [String: Double])
            let waits = try #require(thread["waits"] as? [String: Int])
            #expect(Set(waited.keys) == Set(waitedOn), "\(name)")
            #expect(Set(waits.keys) == Set(waitedOn), "\(name)")
            for other in waitedOn {
                let time = waited[other] ?? -1
                #expect(time >= 0 && time <= seconds + 0.01, "\(name) on \(other): \(time) s")
                #expect((waits[other] ?? -1) >= 0)
                #expect((waits[other] ?? 0) > 0 || time == 0, "\(name) on \(other)")
            }
        }
    }

    /// Input that arrives a second late is time the parser waited on the reader, and the
    /// reader's CPU time is not that wait.
    ///
    /// The pause starts as the first bytes are written, perhaps before catpool is running: a
    /// loaded machine (CI builds the benchmarks beside the tests) took 0.2 s of a 0.4 s pause
    /// to start it, so the pause is long and the test asks for less than a third of it.
    @Test func statsCountTheParsersWaitForASlowInput() throws {
        let fixture = Fixture(
            folder: TestPaths.fixtures.appendingPathComponent("replay/box-sim-bank"))
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let stats = folder.appendingPathComponent("stats.json")
        let input = fixture.file("input.csv").path
        let script =
            "{ head -c 1000 '\(input)'; sleep 1; tail -c +1001 '\(input)'; } | '\(CatPoolBinary.url.path)' check -q --stats '\(stats.path)'"
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        shell.arguments = ["-c", script]
        try shell.run()
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 0)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: stats)) as? [String: Any])
        let threads = try #require(object["threads"] as? [String: [String: Any]])
        let parserWaited = try #require(threads["parser"]?["waited_s"] as? [String: Double])
        let parserWaits = try #require(threads["parser"]?["waits"] as? [String: Int])
        #expect((parserWaited["reader"] ?? 0) >= 0.3, "\(parserWaited)")
        #expect((parserWaits["reader"] ?? 0) >= 1)
        let readerCPU = try #require(threads["reader"]?["cpu_s"] as? Double)
        #expect(readerCPU < 0.3, "the reader slept, it did not spin")
    }

    @Test func endsQuietlyWhenStdoutIsClosed() throws {
        // `catpool check --rejects - … | head -1`: the reader leaves after one line.
        let dump = Self.messyDump()
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("day.csv")
        try Data(dump.bytes).write(to: input)
        let script =
            "'\(CatPoolBinary.url.path)' check -q --timezone Z --max-reject-ratio 1 --rejects - '\(input.path)' | head -c 100 >/dev/null; echo \"${PIPESTATUS[0]}\""
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        shell.arguments = ["-c", script]
        let output = Pipe()
        let errors = Pipe()
        shell.standardOutput = output
        shell.standardError = errors
        try shell.run()
        shell.waitUntilExit()
        let status = String(
            decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(
            decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(status.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        #expect(stderr.isEmpty, "\(stderr)")
    }
}
