import CDRTestSupport
import Foundation
import Testing

/// The scripts in `Pipelines/` (nightly job, live feed, jq recipes) on fixtures, with their
/// exact expected output: `Pipelines/tests/run.sh`, here so `swift test` runs it too.
struct PipelineScriptTests {
    @Test func scriptsPrintExactlyWhatTheirCasesExpect() throws {
        let runner = TestPaths.fixtures.deletingLastPathComponent()
            .appendingPathComponent("Pipelines/tests/run.sh")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [runner.path]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "CATPOOL": CatPoolBinary.url.path
        ]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(
            decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count >= 4, "\(text)")
    }
}
