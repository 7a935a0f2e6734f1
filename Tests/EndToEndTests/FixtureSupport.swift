import CDRTestSupport
import Foundation
import Testing

/// One folder of `Fixtures/replay` or `Fixtures/errors`: an input, the arguments, and what
/// the binary must print and return (zstd cli-tests style).
struct Fixture: CustomTestStringConvertible, Sendable {
    let folder: URL
    var testDescription: String {
        folder.deletingLastPathComponent().lastPathComponent + "/" + folder.lastPathComponent
    }

    /// Every fixture folder under `Fixtures/<group>`, sorted.
    static func all(_ group: String) -> [Fixture] {
        let root = TestPaths.fixtures.appendingPathComponent(group)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().map { Fixture(folder: root.appendingPathComponent($0)) }
    }

    func file(_ name: String) -> URL { folder.appendingPathComponent(name) }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name).path) }

    /// The compressed input when there is one (`.zst`, then `.gz`), else the plain CSV.
    var input: URL {
        for name in ["input.csv.zst", "input.csv.gz", "input.csv"] where exists(name) {
            return file(name)
        }
        return file("input.csv")
    }

    /// One argument per line of `args`.
    var arguments: [String] {
        guard let text = try? String(contentsOf: file("args"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    func expected(_ name: String) -> String {
        (try? String(contentsOf: file(name), encoding: .utf8)) ?? ""
    }
}

/// A fresh folder under the system's temporary directory; remove it when done.
func makeScratchFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "catpool-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// The result of running the built `catpool`.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CatPoolBinary {
    /// `CATPOOL_BIN`, or the `catpool` built beside this test bundle.
    static var url: URL {
        if let path = ProcessInfo.processInfo.environment["CATPOOL_BIN"] {
            return URL(fileURLWithPath: path)
        }
        let bundle = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        return bundle.deletingLastPathComponent().appendingPathComponent("catpool")
    }

    /// Runs the binary with `arguments` and stdin from `input` (or `stdinBytes`), and waits.
    ///
    /// Output goes through temporary files, so neither stream can fill a pipe and stall.
    /// With `timeout`, a run still going after that many seconds is killed, recorded as an
    /// issue, and returns status -1 (a hang fails the test instead of the whole suite).
    static func run(
        _ arguments: [String], stdin input: URL? = nil, stdinBytes: [UInt8] = [],
        in directory: URL? = nil, timeout: Double? = nil
    ) throws
        -> CommandResult
    {
        let scratch = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let stdinURL = input ?? scratch.appendingPathComponent("stdin")
        if input == nil { try Data(stdinBytes).write(to: stdinURL) }
        let stdoutURL = scratch.appendingPathComponent("stdout")
        let stderrURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.currentDirectoryURL = directory ?? scratch
        process.standardInput = try FileHandle(forReadingFrom: stdinURL)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        var status: Int32
        if let timeout {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { usleep(10_000) }
            if process.isRunning {
                process.interrupt()
                kill(process.processIdentifier, SIGKILL)
                Issue.record("catpool \(arguments) still running after \(timeout) s")
            }
            process.waitUntilExit()
            status = process.terminationReason == .exit ? process.terminationStatus : -1
        } else {
            process.waitUntilExit()
            status = process.terminationStatus
        }
        return CommandResult(
            status: status,
            stdout: String(decoding: try Data(contentsOf: stdoutURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self))
    }
}

extension CatPoolBinary {
    /// Runs `script` with bash in `directory`, with a timeout like `run`'s.
    static func shell(_ script: String, in directory: URL, timeout: Double) throws
        -> CommandResult
    {
        let scratch = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let stdoutURL = scratch.appendingPathComponent("stdout")
        let stderrURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(-process.processIdentifier, SIGKILL)
            process.terminate()
            Issue.record("script still running after \(timeout) s: \(script)")
        }
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: stdoutURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self))
    }
}

/// Masks what legitimately varies between runs: the wall-clock `seconds` of `--stats`, and
/// its `threads` object (CPU and waiting times) is left out.
func maskingRunTime(_ text: String) -> String {
    var result = ""
    var rest = Substring(withoutThreads(text))
    while let range = rest.range(of: "\"seconds\":") {
        result += rest[..<range.upperBound]
        rest = rest[range.upperBound...].drop { $0.isNumber || $0 == "." }
        result += "0"
    }
    return result + rest
}

/// `text` without any `,"threads":{…}` of `--stats` (its braces matched; it holds no strings
/// with braces).
func withoutThreads(_ text: String) -> String {
    var result = ""
    var rest = Substring(text)
    while let range = rest.range(of: ",\"threads\":{") {
        result += rest[..<range.lowerBound]
        var depth = 1
        var index = range.upperBound
        while index < rest.endIndex, depth > 0 {
            if rest[index] == "{" { depth += 1 }
            if rest[index] == "}" { depth -= 1 }
            index = rest.index(after: index)
        }
        rest = rest[index...]
    }
    return result + rest
}

/// Compares `actual` with `expected` line by line and reports the first difference.
func expectSameLines(
    _ actual: String, _ expected: String, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual != expected else { return }
    let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let index =
        zip(actualLines, expectedLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        ?? min(actualLines.count, expectedLines.count)
    let got = index < actualLines.count ? String(actualLines[index]) : "<end>"
    let want = index < expectedLines.count ? String(expectedLines[index]) : "<end>"
    Issue.record(
        "\(what) differs at line \(index + 1) (\(actualLines.count) lines, expected \(expectedLines.count)):\n  got:  \(got)\n  want: \(want)",
        sourceLocation: sourceLocation)
}
