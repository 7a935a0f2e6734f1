import CDRInput
import CDRTestSupport
import Foundation
import Testing

/// Replays every fixture through the built binary.
///
/// Compares stdout, stderr and the exit status byte for byte. `RECORD_FIXTURES=1` rewrites the expected files and fails, so a run
/// in record mode can never pass.
struct FixtureReplayTests {
    static let isRecording = ProcessInfo.processInfo.environment["RECORD_FIXTURES"] == "1"

    @Test(arguments: Fixture.all("replay") + Fixture.all("errors"))
    func replaysFixture(fixture: Fixture) throws {
        let result = try CatPoolBinary.run(
            fixture.arguments, stdin: fixture.input, in: fixture.folder)
        let stdout = maskingRunTime(result.stdout)
        if Self.isRecording {
            try record(stdout, fixture.file("expected.jsonl"))
            try record(result.stderr, fixture.file("expected.stderr"))
            try record(
                result.status == 0 ? "" : "\(result.status)\n", fixture.file("expected.exit"))
            Issue.record(
                "recorded \(fixture.testDescription); run again without RECORD_FIXTURES to check it"
            )
            return
        }
        expectSameLines(stdout, fixture.expected("expected.jsonl"), "stdout")
        expectSameLines(result.stderr, fixture.expected("expected.stderr"), "stderr")
        let expectedStatus =
            Int32(fixture.expected("expected.exit").trimmingCharacters(in: .whitespacesAndNewlines))
            ?? 0
        #expect(result.status == expectedStatus)
        if fixture.folder.path.contains("/errors/") {
            #expect(result.status != 0, "an errors/ fixture must fail")
        }
    }

    @Test(arguments: Fixture.all("replay") + Fixture.all("errors"))
    func compressedInputDecodesToTheReadableCSV(fixture: Fixture) throws {
        guard fixture.exists("input.csv"), fixture.input.pathExtension != "csv" else { return }
        let decoder = StreamDecoder()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { buffer.deallocate() }
        var decoded: [UInt8] = []
        try TestPaths.read(fixture.input).withUnsafeBytes {
            try decoder.feed($0, using: buffer) { decoded.append(contentsOf: $0) }
        }
        try decoder.finish(using: buffer) { decoded.append(contentsOf: $0) }
        #expect(decoded == (try TestPaths.read(fixture.file("input.csv"))))
    }

    private func record(_ text: String, _ url: URL) throws {
        if text.isEmpty {
            try? FileManager.default.removeItem(at: url)
        } else {
            try Data(text.utf8).write(to: url)
        }
    }
}
