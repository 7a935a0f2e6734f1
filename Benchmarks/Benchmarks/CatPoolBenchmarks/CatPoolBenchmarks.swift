import Benchmark
import CDRInput
import CorpusGenerator
import Foundation
import CDRPipeline
import CDRRecords

/// Per-stage benchmarks of the reading path, on a one-million-record corpus (`Corpus`).
///
/// Each iteration processes all one million records; the scaling factor is `.mega`, so
/// `swift package benchmark --scale` reports per-record time and allocations, and the plain
/// throughput column reads as millions of records per second. The goal for the parse stages
/// is zero allocations per record: a few per iteration (buffers) are expected.
let benchmarks: @Sendable () -> Void = {
    // CI checks allocations only: they are exact, unlike times on a shared machine. The
    // thresholds in Thresholds/ allow a few allocations per iteration (buffers, the cell
    // table), so one allocation per record (a million per iteration) fails the check.
    let allocationsOnly = ProcessInfo.processInfo.environment["CATPOOL_BENCH_ALLOCATIONS_ONLY"] != nil
    Benchmark.defaultConfiguration = .init(
        metrics: allocationsOnly
            ? [.mallocCountTotal] : [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1,
        scalingFactor: .mega,
        maxDuration: .seconds(10),
        maxIterations: 10,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 50])]
    )
    let recordCount = 1_000_000
    nonisolated(unsafe) var corpus: (plain: [UInt8], zstd: [UInt8])?
    func loaded() -> (plain: [UInt8], zstd: [UInt8]) {
        if let corpus { return corpus }
        let made = Corpus.inMemory(records: recordCount)
        corpus = made
        return made
    }
    let chunkSize = 1 << 20

    // MARK: - decode: libzstd into 1 MiB buffers

    Benchmark("decode-zstd") { benchmark in
        let input = loaded().zstd
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { output.deallocate() }
        benchmark.startMeasurement()
        let decoder = StreamDecoder()
        var total = 0
        try input.withUnsafeBytes { bytes in
            try decoder.feed(bytes, using: output) { total += $0.count }
            try decoder.finish(using: output) { total += $0.count }
        }
        blackHole(total)
    }

    // MARK: - split

    Benchmark("split-lines") { benchmark in
        let input = loaded().plain
        benchmark.startMeasurement()
        var splitter = LineSplitter()
        var lines = 0
        input.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + chunkSize, bytes.count)
                splitter.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<end])) { _ in lines += 1 }
                offset = end
            }
            splitter.finish { _ in lines += 1 }
        }
        blackHole(lines)
    }

    // MARK: - parse: split and parse, no counting

    Benchmark("parse") { benchmark in
        let input = loaded().plain
        let cells = CellInterner()
        benchmark.startMeasurement()
        var splitter = LineSplitter()
        var parser: CallRecordParser?
        var record = CallRecord.placeholder
        var parsed = 0
        input.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + chunkSize, bytes.count)
                splitter.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<end])) { line in
                    guard let parser else {
                        parser = (try? ColumnLayout(header: line.bytes, delimiter: nil)).map { CallRecordParser(layout: $0) }
                        return
                    }
                    if parser.parse(line.bytes, cells: cells, into: &record) == .record { parsed += 1 }
                }
                offset = end
            }
        }
        precondition(parsed == recordCount, "parsed \(parsed) records")
        blackHole(record)
    }

    // MARK: - pipeline: split, parse and count, as the executable's parser thread does

    Benchmark("pipeline") { benchmark in
        let input = loaded().plain
        benchmark.startMeasurement()
        var pipeline = try Pipeline(configuration: PipelineConfiguration())
        var output = PipelineOutput()
        pipeline.beginInput(named: "corpus")
        try input.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + chunkSize, bytes.count)
                try pipeline.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), into: &output)
                offset = end
            }
        }
        try pipeline.finishInput(bytesIn: input.count, format: .plain, isCutShort: false, into: &output)
        precondition(pipeline.statistics.records == recordCount)
        blackHole(output)
    }

    // MARK: - read stage on one thread: decode, split, parse and count

    Benchmark("read-stage-one-thread") { benchmark in
        let input = loaded().zstd
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { buffer.deallocate() }
        benchmark.startMeasurement()
        var pipeline = try Pipeline(configuration: PipelineConfiguration())
        var output = PipelineOutput()
        pipeline.beginInput(named: "corpus.zst")
        let decoder = StreamDecoder()
        try input.withUnsafeBytes { bytes in
            try decoder.feed(bytes, using: buffer) { try pipeline.feed($0, into: &output) }
            try decoder.finish(using: buffer) { try pipeline.feed($0, into: &output) }
        }
        try pipeline.finishInput(bytesIn: decoder.bytesIn, format: decoder.format, isCutShort: false, into: &output)
        precondition(pipeline.statistics.records == recordCount)
        blackHole(output)
    }
}
