import CDRTestSupport
import Foundation
import Testing

/// Common mistakes answered before the first input byte is read, with their exit status and
/// message (#16, #13); the rest are `Fixtures/errors/` scenarios.
struct EarlyAnswerTests {
    static let head = Array(
        (try? TestPaths.read(
            TestPaths.fixtures.appendingPathComponent("replay/box-one-cell/input.csv")))?
            .prefix(2000) ?? [])

    @Test(arguments: ["--rejects", "--stats", "--metrics-file", "--state"])
    func refusesAnOutputThatIsAnInputAndLeavesItAlone(flag: String) throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("a.csv")
        try Data(Self.head).write(to: input)
        let named = try CatPoolBinary.run([flag, input.path, input.path], timeout: 60)
        #expect(named.status == 64)
        #expect(named.stderr.contains("\(flag) \(input.path) is the input \(input.path)"))
        let piped = try CatPoolBinary.run([flag, input.path], stdin: input, timeout: 60)
        #expect(piped.status == 64)
        #expect(piped.stderr.contains("is the input stdin"))
        #expect(try TestPaths.read(input) == Self.head)
    }

    /// Every setting `catpool profile` prints is checked: a value far outside any range is
    /// refused, by its range or by the settings it must agree with.
    @Test func everyProfileSettingHasARange() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = try CatPoolBinary.run(["profile"]).stdout.split(separator: "\n").compactMap {
            $0.split(separator: " ").first.map(String.init)
        }
        #expect(names.count >= 15)
        for name in names {
            let profile = folder.appendingPathComponent("\(name).profile")
            try Data("\(name) = 1e12\n".utf8).write(to: profile)
            let result = try CatPoolBinary.run(["profile", "--profile", profile.path])
            #expect(result.status == 64, "\(name)")
            #expect(result.stderr.contains(name), "\(result.stderr)")
        }
    }

    @Test func refusesAnOutputInAMissingFolderBeforeReadingAnything() throws {
        // stdin never ends: a run that read before checking its outputs would hang here.
        let result = try CatPoolBinary.run(
            ["check", "--metrics-file", "gone/catpool.prom", "/dev/zero"], timeout: 30)
        #expect(result.status == 74)
        #expect(
            result.stderr
                == "catpool: cannot write --metrics-file gone/catpool.prom: folder gone does not exist\n"
        )
    }

    @Test func writesMetricsAndStatisticsToADeviceInPlace() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("a.csv")
        try Data(Self.head).write(to: input)
        let result = try CatPoolBinary.run(
            ["-q", "--metrics-file", "/dev/null", "--stats", "/dev/null", input.path],
            timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let kind = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type]
        #expect(kind as? FileAttributeType == .typeCharacterSpecial)
        // /dev/full reads zeros without end and takes no bytes: the run must end, with 74.
        let full = try CatPoolBinary.run(
            ["-q", "--metrics-file", "/dev/full", input.path], timeout: 60)
        #expect(full.status == 74)
        #expect(full.stderr.contains("cannot write /dev/full: No space left on device"))
    }

    @Test(arguments: [("scor", "score"), ("detec", "detect"), ("chek", "check")])
    func suggestsTheSubcommandAMistypedWordWasMeantToBe(word: String, meant: String) throws {
        let result = try CatPoolBinary.run([word], timeout: 60)
        #expect(result.status == 64)
        #expect(result.stderr.contains("did you mean '\(meant)'?"))
    }

    @Test func namesAMissingFileThatIsNoNearMissOfASubcommand() throws {
        let result = try CatPoolBinary.run(["--no-progress", "night.csv"], timeout: 60)
        #expect(result.status == 74)
        #expect(result.stderr.contains("cannot read night.csv: No such file or directory"))
        #expect(!result.stderr.contains("did you mean"))
    }

    @Test func warnsEvenUnderQuietWhenTheInputIsOlderThanTheState() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fixture = TestPaths.fixtures.appendingPathComponent("replay/box-one-cell")
        let state = folder.appendingPathComponent("catpool.state")
        let arguments = [
            "-q", "--cells", fixture.appendingPathComponent("cells.csv").path, "--state",
            state.path, fixture.appendingPathComponent("input.csv.zst").path,
        ]
        let first = try CatPoolBinary.run(arguments, timeout: 120)
        #expect(first.status == 0 && first.stderr.isEmpty, "\(first.stderr)")
        let again = try CatPoolBinary.run(arguments, timeout: 120)
        #expect(again.status == 0)
        #expect(again.stdout.isEmpty)
        #expect(
            again.stderr.contains(
                "calls (events 2026-11-20T00:00:00Z to 2026-11-20T03:59:36Z) are older than "
                    + "the --state file's watermark 2026-11-20T03:49:32Z"))
        #expect(again.stderr.contains("or remove \(state.path) to start afresh"))
    }

    @Test(arguments: [
        (["--map-type", "MO_CALL"], "--map-type takes VALUE=TYPE"),
        (["--map-type", "MO_CALL=VOICE"], "--map-type takes VALUE=TYPE"),
        (["--map-type", "MTC=MOC"], "MTC is already a record type"),
    ])
    func refusesAMalformedTypeMapping(arguments: [String], message: String) throws {
        let result = try CatPoolBinary.run(arguments + ["/dev/null"], timeout: 60)
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func clearsTheProgressLineBeforeADecisionOnTheSameTerminal() throws {
        // script(1) gives catpool a terminal for stdout and stderr; the input pauses after
        // 400 lines, so the progress line is drawn before the box is flagged.
        let script = "/usr/bin/script"
        try #require(FileManager.default.isExecutableFile(atPath: script), "util-linux script")
        let fixture = TestPaths.fixtures.appendingPathComponent("replay/box-one-cell")
        let input = fixture.appendingPathComponent("input.csv").path
        let command =
            "(head -400 '\(input)'; sleep 1; tail -n +401 '\(input)') | '\(CatPoolBinary.url.path)' "
            + "--progress --cells '\(fixture.appendingPathComponent("cells.csv").path)'"
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let typescript = folder.appendingPathComponent("typescript")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = ["-qec", command, typescript.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let screen = String(decoding: try TestPaths.read(typescript), as: UTF8.self)
        let decisions = screen.components(separatedBy: "{\"event\"").dropFirst()
        #expect(decisions.count == 8)
        #expect(screen.contains("flagged\r\u{1B}[K{\"event\":\"flagged\""), "\(screen.prefix(300))")
        for range in screen.ranges(of: "{\"event\"") {
            let before = screen[..<range.lowerBound]
            #expect(
                before.isEmpty || before.utf8.last == 0x0A || before.hasSuffix("\u{1B}[K"),
                "a decision after \(before.suffix(60).debugDescription)")
        }
    }

    @Test(arguments: [[], ["detect"], ["check"], ["simulate"], ["score"]])
    func helpExamplesSurviveEightyColumnsAndCopyPaste(command: [String]) throws {
        let help = try CatPoolBinary.run(command + ["--help"], timeout: 60).stdout
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0 == "Examples:" || $0 == "Example:" })
        let block = lines[(start + 1)...].prefix { !$0.isEmpty }
        #expect(block.count >= 2)
        for line in block {
            // A line wrapped by the help formatter starts at column 0.
            #expect(line.hasPrefix("  ") && line.count <= 80, "\(line)")
        }
        // Joined at their backslashes, the examples are whole shell commands.
        let commands = block.joined(separator: "\n").replacingOccurrences(of: "\\\n", with: "")
        for example in commands.split(separator: "\n") {
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/bash")
            shell.arguments = ["-n", "-c", String(example)]
            try shell.run()
            shell.waitUntilExit()
            #expect(shell.terminationStatus == 0, "\(example)")
            #expect(example.contains("catpool "), "\(example)")
        }
    }

    @Test func acceptsAByteOrderMarkInTheCellTableProfileAndAllowList() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fixture = TestPaths.fixtures.appendingPathComponent("replay/box-one-cell")
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let files = [
            ("cells.csv", try TestPaths.read(fixture.appendingPathComponent("cells.csv"))),
            ("p.profile", Array("min_sims = 4\n".utf8)),
            ("allow.txt", Array("imsi 1234567\n".utf8)),
        ]
        for (name, bytes) in files {
            try Data(bom + bytes).write(to: folder.appendingPathComponent(name))
        }
        let result = try CatPoolBinary.run(
            [
                "-q", "--cells", "cells.csv", "--profile", "p.profile", "--allow", "allow.txt",
                fixture.appendingPathComponent("input.csv.zst").path,
            ], in: folder, timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let expected = String(
            decoding: try TestPaths.read(fixture.appendingPathComponent("expected.jsonl")),
            as: UTF8.self)
        expectSameLines(result.stdout, expected, "stdout")
    }
}
