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
        var configuration = DaySimulator.Configuration()
        configuration.seed = 8
        configuration.subscribers = 3000
        configuration.hours = 8
        configuration.boxes = 6
        configuration.disorderSeconds = 300
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

    /// The day in one chunk, the detection stage inline: the reference.
    static func inline() throws -> (events: [UInt8], statistics: RunStatistics) {
        var pipeline = try pipeline(threaded: false)
        var output = PipelineOutput()
        pipeline.beginInput(named: "day")
        try day.bytes.withUnsafeBytes { try pipeline.feed($0, into: &output) }
        try pipeline.finishInput(
            bytesIn: day.bytes.count, format: .plain, isCutShort: false, into: &output)
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
        let reader = DecodingReader(inputs: [path], bufferCount: 3)
        reader.start()
        reading: while true {
            switch reader.next() {
            case .begin(let name): pipeline.beginInput(named: name)
            case .data(let buffer, let count):
                try pipeline.feed(UnsafeRawBufferPointer(rebasing: buffer[..<count]), into: &output)
                reader.recycle(buffer)
            case .end(let bytesIn, let format, _):
                try pipeline.finishInput(
                    bytesIn: bytesIn, format: format, isCutShort: false, into: &output)
            case .finished:
                pipeline.finish(into: &output)
                break reading
            case .corrupt, .unreadable:
                Issue.record("the day reads")
                return
            }
        }
        let reference = try Self.inline()
        #expect(reference.events.count > 10_000, "the day flags its boxes")
        #expect(output.events == reference.events)
        #expect(pipeline.statistics.decisions == reference.statistics.decisions)
        #expect(pipeline.statistics.lateRecords == reference.statistics.lateRecords)
    }

    @Test func flushingAtEveryChunkChangesNoByte() throws {
        var pipeline = try Self.pipeline(threaded: true)
        var output = PipelineOutput()
        pipeline.beginInput(named: "day")
        // Uneven chunks, a live feed's flush after each: batches of every size go over.
        var offset = 0
        var size = 1
        try Self.day.bytes.withUnsafeBytes { bytes in
            while offset < bytes.count {
                let end = min(bytes.count, offset + size)
                try pipeline.feed(
                    UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), into: &output)
                if size % 3 == 0 { pipeline.flush(into: &output) }
                offset = end
                size = size * 7 % 100_003 + 1
            }
        }
        try pipeline.finishInput(
            bytesIn: Self.day.bytes.count, format: .plain, isCutShort: false, into: &output)
        pipeline.finish(into: &output)
        #expect(output.events == (try Self.inline()).events)
    }
}
