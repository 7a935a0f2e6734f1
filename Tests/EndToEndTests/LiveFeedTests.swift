import CDRTestSupport
import Foundation
import Testing

/// `catpool detect` on a slow live feed: a decision is on stdout within a second of the
/// record that made it being written into the pipe, however the batching inside goes.
@Suite(.serialized) struct LiveFeedTests {
    /// Collects a child's stdout on a thread of its own, noting when each line arrived.
    final class LineCollector: @unchecked Sendable {
        private let condition = NSCondition()
        private var buffer = Data()
        private(set) var lines: [(text: String, at: Date)] = []
        private var isClosed = false

        init(_ handle: FileHandle) {
            Thread {
                while true {
                    let data = handle.availableData
                    self.condition.lock()
                    if data.isEmpty {
                        self.isClosed = true
                    } else {
                        self.buffer.append(data)
                        while let end = self.buffer.firstIndex(of: 0x0A) {
                            let line = self.buffer[self.buffer.startIndex..<end]
                            self.lines.append((String(decoding: line, as: UTF8.self), Date()))
                            self.buffer.removeSubrange(self.buffer.startIndex...end)
                        }
                    }
                    self.condition.broadcast()
                    self.condition.unlock()
                    if data.isEmpty { return }
                }
            }.start()
        }

        /// Waits up to `seconds` for a line containing `text`; returns when it arrived.
        func wait(for text: String, seconds: Double) -> Date? {
            let deadline = Date(timeIntervalSinceNow: seconds)
            condition.lock()
            defer { condition.unlock() }
            while true {
                if let line = lines.first(where: { $0.text.contains(text) }) { return line.at }
                if isClosed || !condition.wait(until: deadline) { return nil }
            }
        }

        var count: Int {
            condition.lock()
            defer { condition.unlock() }
            return lines.count
        }
    }

    @Test func flagsWithinASecondOfTheTriggeringRecord() throws {
        let fixture = Fixture(
            folder: TestPaths.fixtures.appendingPathComponent("replay/box-one-cell"))
        let text = String(decoding: try Data(contentsOf: fixture.file("input.csv")), as: UTF8.self)
        let lines = text.split(separator: "\n").map { String($0) + "\n" }
        let expected = fixture.expected("expected.jsonl")
        let flagged = try #require(expected.split(separator: "\n").first)
        #expect(flagged.contains("\"event\":\"flagged\""))
        // The window ending at `detected_at` is evaluated when the watermark (newest event
        // time minus the 10-minute lateness) reaches it: the first record that late.
        let detectedAt = try #require(Self.field("detected_at", of: String(flagged)))
        let due = try #require(Self.date(detectedAt)).addingTimeInterval(10 * 60)
        let trigger = try #require(
            lines.indices.dropFirst().first { Self.date(lines[$0].prefix(19) + "Z")! >= due })

        let process = Process()
        process.executableURL = CatPoolBinary.url
        process.arguments = ["detect", "-q", "--cells", fixture.file("cells.csv").path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let collector = LineCollector(output.fileHandleForReading)
        let writer = input.fileHandleForWriting

        // Everything before the trigger, then a pause: nothing may be flagged yet.
        try writer.write(contentsOf: Data(lines[..<trigger].joined().utf8))
        Thread.sleep(forTimeInterval: 1.5)
        #expect(collector.count == 0, "flagged before its window was due")

        let written = Date()
        try writer.write(contentsOf: Data(lines[trigger].utf8))
        let arrived = collector.wait(for: "\"event\":\"flagged\"", seconds: 5)
        let latency = try #require(arrived, "no flagged line within 5 s").timeIntervalSince(written)
        #expect(latency < 1.0, "flagged \(latency) s after the triggering record")

        try writer.write(contentsOf: Data(lines[(trigger + 1)...].joined().utf8))
        try writer.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        _ = collector.wait(for: "never", seconds: 2)  // until stdout closes
        #expect(collector.lines.map(\.text).joined(separator: "\n") + "\n" == expected)
    }

    static func field(_ name: String, of line: String) -> String? {
        guard let range = line.range(of: "\"\(name)\":\"") else { return nil }
        return String(line[range.upperBound...].prefix { $0 != "\"" })
    }

    static func date(_ text: String) -> Date? { ISO8601DateFormatter().date(from: text) }
}
