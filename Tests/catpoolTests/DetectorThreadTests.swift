import CDRPipeline
import CDRSimulation
import Foundation
import Testing

@testable import catpool

/// What production runs (the reader on its thread, the detector on its own, records handed
/// over in batches) against the detection stage fed inline, on a simulated day: the same
/// bytes.
struct DetectorThreadTests {
    static let day: (bytes: [UInt8], cells: CellTable) = {
        // Six boxes among 3000 subscribers for 8 hours, with a fifth of the records late.
        var configuration = DaySimulator.Configuration()
        (configuration.seed, configuration.subscribers, configuration.hours) = (8, 3000, 8)
        (configuration.boxes, configuration.disorderSeconds) = (6, 300)
        configuration.lateShare = 0.2
        var simulator = DaySimulator(configuration: configuration)
        var day: [UInt8] = []
        try? simulator.run { day.append(contentsOf: $0) }
        let cells = (try? CellTable(bytes: simulator.city.cellTable())) ?? CellTable()
        return (day, cells)
    }()

    static func pipeline(threaded: Bool) throws -> Pipeline {
        var configuration = PipelineConfiguration()
        configuration.detection = .init(cellTable: day.cells)
        return threaded
            ? try Pipeline(configuration: configuration, runningDetection: { DetectorThread($0) })
            : try Pipeline(configuration: configuration)
    }

    /// The day fed in chunks of `nextSize(previous)` bytes, flushed after those `flushes`
    /// picks.
    static func detect(
        threaded: Bool, nextSize: (Int) -> Int = { _ in .max },
        flushes: (Int) -> Bool = { _ in false }
    ) throws -> (events: [UInt8], statistics: RunStatistics) {
        var pipeline = try pipeline(threaded: threaded)
        var output = PipelineOutput()
        try pipeline.feed(.begin(name: "day"), into: &output)
        var offset = 0
        var size = nextSize(0)
        try day.bytes.withUnsafeBytes { bytes in
            while offset < bytes.count {
                let end = offset + min(bytes.count - offset, size)
                try pipeline.feed(
                    .bytes(UnsafeRawBufferPointer(rebasing: bytes[offset..<end])), into: &output)
                if flushes(size) { pipeline.flush(into: &output) }
                offset = end
                size = nextSize(size)
            }
        }
        try pipeline.feed(
            .end(
                bytesIn: day.bytes.count, format: .plain, isCutShort: false), into: &output)
        pipeline.finish(into: &output)
        return (output.events, pipeline.statistics)
    }

    @Test func readerAndDetectorThreadsWriteWhatInlineDetectionWrites() throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("catpool-detector-thread-\(getpid()).csv").path
        try Data(Self.day.bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }

        var pipeline = try Self.pipeline(threaded: true)
        var output = PipelineOutput()
        // Small buffers, so many chunks and batch edges fall anywhere in a line.
        let reader = DecodingReader(inputs: [path], hashes: false, bufferCount: 3)
        reader.start()
        reading: while true {
            switch reader.next() {
            case .begin(let name): try pipeline.feed(.begin(name: name), into: &output)
            case .data(let buffer, let count):
                try pipeline.feed(
                    .bytes(UnsafeRawBufferPointer(rebasing: buffer[..<count])), into: &output)
                reader.recycle(buffer)
            case .end(let bytesIn, let format, _):
                try pipeline.feed(
                    .end(
                        bytesIn: bytesIn, format: format, isCutShort: false), into: &output)
            case .finished:
                pipeline.finish(into: &output)
                break reading
            case .corrupt, .unreadable:
                Issue.record("the day reads")
                return
            }
        }
        let reference = try Self.detect(threaded: false)
        #expect(reference.events.count > 10_000, "the day flags its boxes")
        #expect(output.events == reference.events)
        #expect(pipeline.statistics.decisions == reference.statistics.decisions)
        #expect(pipeline.statistics.lateRecords == reference.statistics.lateRecords)
    }

    @Test func flushingAfterUnevenChunksChangesNoByte() throws {
        // Uneven chunks, a live feed's flush after a third of them: batches of every size.
        let threaded = try Self.detect(
            threaded: true, nextSize: { $0 * 7 % 100_003 + 1 }, flushes: { $0 % 3 == 0 })
        #expect(threaded.events == (try Self.detect(threaded: false)).events)
    }
}
