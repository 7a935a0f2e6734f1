import Benchmark
import CDRInput
import CDRPipeline
import CDRRecords
import CorpusGenerator
import Foundation
import SIMBoxDetection
import SlidingWindows

/// Per-stage benchmarks, on a one-million-record corpus (`Corpus`): reading (decode, split,
/// parse, pipeline), the window, the detector, JSON encoding, and the whole job.
///
/// Each iteration processes all one million records; the scaling factor is `.mega`, so
/// `swift package benchmark --scale` reports per-record time and allocations, and the plain
/// throughput column reads as millions of records per second. The goal for the parse stages
/// is zero allocations per record: a few per iteration (buffers) are expected.
let benchmarks: @Sendable () -> Void = {
    // CI checks allocations only: they are exact, unlike times on a shared machine. The
    // thresholds in Thresholds/ allow a few allocations per iteration (buffers, the cell
    // table), so one allocation per record (a million per iteration) fails the check.
    let allocationsOnly =
        ProcessInfo.processInfo.environment["CATPOOL_BENCH_ALLOCATIONS_ONLY"] != nil
    Benchmark.defaultConfiguration = .init(
        metrics: allocationsOnly
            ? [.mallocCountTotal]
            : [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
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

    /// libzstd into `buffer`, each chunk into the pipeline, as the executable's two threads do.
    func decodeAndFeed(
        _ input: [UInt8], through buffer: UnsafeMutableRawBufferPointer,
        into pipeline: inout Pipeline,
        _ output: inout PipelineOutput
    ) throws {
        let decoder = StreamDecoder()
        try input.withUnsafeBytes { bytes in
            try decoder.feed(bytes, using: buffer) { try pipeline.feed(.bytes($0), into: &output) }
            try decoder.finish(using: buffer) { try pipeline.feed(.bytes($0), into: &output) }
        }
        try pipeline.feed(
            .end(bytesIn: decoder.bytesIn, format: decoder.format, isCutShort: false), into: &output
        )
    }

    /// The corpus parsed once (outside any measurement), each record with its location.
    nonisolated(unsafe) var parsed: [(record: CallRecord, location: Int32)]?
    func parsedRecords() -> [(record: CallRecord, location: Int32)] {
        if let parsed { return parsed }
        let cells = CellInterner()
        var splitter = LineSplitter()
        var parser: CallRecordParser?
        var record = CallRecord.placeholder
        var records: [(record: CallRecord, location: Int32)] = []
        records.reserveCapacity(recordCount)
        loaded().plain.withUnsafeBytes { bytes in
            splitter.feed(bytes) { line in
                guard parser != nil else {
                    parser = (try? ColumnLayout(header: line.bytes, delimiter: nil)).map {
                        CallRecordParser(layout: $0)
                    }
                    return
                }
                if parser?.parse(line.bytes, cells: cells, into: &record) == .record {
                    records.append((record, Int32(record.cell.rawValue)))
                }
            }
        }
        parsed = records
        return records
    }

    /// An eight-channel box dialling new numbers every two minutes through the day's first
    /// six hours, at a location of its own.
    func boxRecords() -> [(record: CallRecord, location: Int32)] {
        var records: [(record: CallRecord, location: Int32)] = []
        for channel in 0..<8 {
            guard let imsi = IMSI("46001000000000\(channel)") else {
                preconditionFailure("fifteen digits are always an IMSI")
            }
            for call in 0..<180 {
                let record = CallRecord(
                    eventTime: EventTime(
                        millisecondsSinceEpoch: 1_795_132_800_000 + Int64(call * 120 + channel * 7)
                            * 1000),
                    type: .moc, imsi: imsi,
                    imei: IMEI(tac: 86_117_203, serial: 500_000 + channel),
                    msisdn: PhoneNumber("86170000000\(channel)"),
                    peer: PhoneNumber("8615\(100_000_000 + channel * 1000 + call)"),
                    durationSeconds: call % 3 == 0 ? 40 : 0, cell: CellID(rawValue: 0))
                records.append((record, 99_999))
            }
        }
        return records
    }

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
                splitter.feed(UnsafeRawBufferPointer(rebasing: bytes[offset..<end])) { _ in
                    lines += 1
                }
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
                    guard parser != nil else {
                        parser = (try? ColumnLayout(header: line.bytes, delimiter: nil)).map {
                            CallRecordParser(layout: $0)
                        }
                        return
                    }
                    if parser?.parse(line.bytes, cells: cells, into: &record) == .record {
                        parsed += 1
                    }
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
        try pipeline.feed(.begin(name: "corpus"), into: &output)
        try input.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + chunkSize, bytes.count)
                try pipeline.feed(
                    .bytes(UnsafeRawBufferPointer(rebasing: bytes[offset..<end])), into: &output)
                offset = end
            }
        }
        try pipeline.feed(
            .end(bytesIn: input.count, format: .plain, isCutShort: false), into: &output)
        precondition(pipeline.statistics.records == recordCount)
        blackHole(output)
    }

    // MARK: - window update: a million events through the sliding window into counters

    Benchmark(
        "window-update",
        // Its count wanders from run to run on one machine (643 to 732 allocations an
        // iteration: jemalloc counts small allocations as thread caches refill), so the
        // tolerance is wider than the default 50. It still fails an allocation per record
        // (a million) or per evaluated window (1,440 a day).
        configuration: .init(thresholds: [.mallocCountTotal: .init(absolute: [.p90: 500])])
    ) { benchmark in
        // The corpus's event times and SIMs (parsed before the measurement): each event
        // enters and leaves a counter of its SIM, as the detector's aggregates do.
        let events = parsedRecords().map {
            (
                time: $0.record.eventTime.millisecondsSinceEpoch,
                sim: Int($0.record.imsi.rawValue % 1_000_000)
            )
        }
        var counters = [Int32](repeating: 0, count: 1_000_000)
        benchmark.startMeasurement()
        var window = SlidingWindow<Int>(configuration: .standard)
        var evaluations = 0
        counters.withUnsafeMutableBufferPointer { counters in
            func consume(_ step: SlidingWindow<Int>.Step) {
                switch step {
                case .enter(let sim): counters[sim] += 1
                case .leave(let sim): counters[sim] -= 1
                case .evaluate: evaluations += 1
                }
            }
            for event in events { window.insert(event.sim, at: event.time) { consume($0) } }
            window.finish { consume($0) }
        }
        precondition(evaluations > 1000)
        blackHole(counters)
    }

    // MARK: - detection: parsed records through the detector (prefetch queue, windows, clusters)

    Benchmark(
        "detection",
        configuration: .init(thresholds: [.mallocCountTotal: .init(absolute: [.p90: 20_000])])
    ) { benchmark in
        // A box of eight channels among the corpus's subscribers, so clusters form and
        // decisions are made; allocations come per evaluation (1,440 a day), not per record.
        let records = parsedRecords() + boxRecords()
        let sorted = records.sorted { $0.record.eventTime < $1.record.eventTime }
        benchmark.startMeasurement()
        var detector = try CatPoolDetector(profile: .standard)
        var decisions: [ClusterDecision] = []
        for item in sorted { detector.feed(item.record, location: item.location, into: &decisions) }
        detector.finish(into: &decisions)
        precondition(decisions.contains { $0.kind == .flagged }, "the box was not flagged")
        blackHole(decisions)
    }

    // MARK: - JSON: one thousand decisions of an eight-SIM cluster, written by hand

    Benchmark(
        "json-encoding",
        configuration: .init(
            scalingFactor: .kilo, thresholds: [.mallocCountTotal: .init(absolute: [.p90: 20_000])])
    ) { benchmark in
        var detector = try CatPoolDetector(profile: .standard)
        var decisions: [ClusterDecision] = []
        for item in boxRecords() {
            detector.feed(item.record, location: item.location, into: &decisions)
        }
        detector.finish(into: &decisions)
        guard let decision = decisions.last else { preconditionFailure("the box was not flagged") }
        let cells = CellInterner()
        _ = cells.intern("460-00-4500-10000")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 << 20)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            OutputEvent.encode(decision, location: "S00001", site: nil, cells: cells, into: &bytes)
        }
        blackHole(bytes)
    }

    // MARK: - end to end: zstd bytes to JSON lines, detection inline (the executable's
    // DetectorThread runs the same stage on a thread of its own; the library starts none)

    Benchmark(
        "end-to-end",
        configuration: .init(thresholds: [.mallocCountTotal: .init(absolute: [.p90: 20_000])])
    ) { benchmark in
        let input = loaded().zstd
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { buffer.deallocate() }
        benchmark.startMeasurement()
        var configuration = PipelineConfiguration()
        configuration.detection = .init()
        var pipeline = try Pipeline(configuration: configuration)
        var output = PipelineOutput()
        try pipeline.feed(.begin(name: "corpus.zst"), into: &output)
        try decodeAndFeed(input, through: buffer, into: &pipeline, &output)
        pipeline.finish(into: &output)
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
        try pipeline.feed(.begin(name: "corpus.zst"), into: &output)
        try decodeAndFeed(input, through: buffer, into: &pipeline, &output)
        precondition(pipeline.statistics.records == recordCount)
        blackHole(output)
    }
}
