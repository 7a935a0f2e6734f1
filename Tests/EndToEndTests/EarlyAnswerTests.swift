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
}
