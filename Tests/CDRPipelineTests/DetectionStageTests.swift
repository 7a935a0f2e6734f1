import CDRPipeline
import CDRRecords
import CDRSimulation
import SIMBoxDetection
import Testing

/// The detection stage inside the pipeline: allow list, cell table, statistics, batch edges.
struct DetectionStageTests {
    static let day: (bytes: [UInt8], simulator: DaySimulator) = {
        var configuration = DaySimulator.Configuration()
        configuration.seed = 3
        configuration.subscribers = 300
        configuration.hours = 4
        configuration.start = EventTime(secondsSinceEpoch: 1_795_132_800)
        configuration.boxes = 1
        configuration.boxKinds = [.standard]
        configuration.lookAlikeKinds = []
        var simulator = DaySimulator(configuration: configuration)
        var bytes: [UInt8] = []
        try? simulator.run { bytes.append(contentsOf: $0) }
        return (bytes, simulator)
    }()

    static func detect(
        allow: String = "",
        runningDetection runner: (consuming DetectionStage) -> any DetectionRunner = {
            InlineDetection($0)
        }
    ) throws -> (events: String, statistics: RunStatistics) {
        var configuration = PipelineConfiguration()
        configuration.detection = .init(
            cellTable: try CellTable(bytes: day.simulator.city.cellTable()),
            allowList: try AllowList(text: allow))
        var pipeline = try Pipeline(configuration: configuration, runningDetection: runner)
        var output = PipelineOutput()
        try pipeline.feed(.begin(name: "day"), into: &output)
        try day.bytes.withUnsafeBytes { try pipeline.feed(.bytes($0), into: &output) }
        try pipeline.feed(
            .end(
                bytesIn: day.bytes.count, format: .plain, isCutShort: false), into: &output)
        pipeline.finish(into: &output)
        return (String(decoding: output.events, as: UTF8.self), pipeline.statistics)
    }

    @Test func flagsTheBoxAtItsSite() throws {
        let (events, statistics) = try Self.detect()
        let box = Self.day.simulator.boxes[0]
        #expect(
            events.hasPrefix(
                "{\"event\":\"flagged\",\"cluster_id\":\"cp-1\",\"location\":\"\(Self.day.simulator.city.sites[box.site].name)\""
            ))
        #expect(statistics.decisions["flagged"] == 1)
        #expect(statistics.allowedRecords == 0)
    }

    @Test(arguments: ["cell", "imsi", "msisdn"])
    func allowListKeepsTheBoxFromTheDetector(kind: String) throws {
        let box = Self.day.simulator.boxes[0]
        let city = Self.day.simulator.city
        let lines: [String]
        switch kind {
        case "cell": lines = box.cells.map { "cell \(city.name(of: $0))" }
        case "imsi":
            lines = box.imsis.compactMap { IMSI(rawValue: $0) }.map {
                "imsi \($0)  # a known gateway"
            }
        default: lines = ["msisdn +86170"]  // the simulator's device numbers
        }
        let (events, statistics) = try Self.detect(
            allow: "# allowed\n" + lines.joined(separator: "\n") + "\n")
        #expect(events.isEmpty)
        #expect(statistics.allowedRecords > 0)
    }

    @Test func refusesAMalformedAllowList() {
        #expect(throws: AllowListError.self) { try AllowList(text: "imsi 12ab") }
        #expect(throws: AllowListError.self) { try AllowList(text: "phone 8613800") }
        #expect(throws: AllowListError.self) { try AllowList(text: "cell") }
    }

    /// The stage's decisions do not depend on where batches end: the day's batches cut
    /// again at random lengths give the same bytes.
    @Test(arguments: [UInt64(1), 2])
    func batchEdgesChangeNoByte(seed: UInt64) throws {
        let rebatched = try Self.detect(runningDetection: { RebatchingDetection($0, seed: seed) })
        let inline = try Self.detect()
        #expect(inline.events.contains("flagged"))
        #expect(rebatched.events == inline.events)
        #expect(rebatched.statistics.lateRecords == inline.statistics.lateRecords)
    }
}

/// Feeds the stage each batch in pieces of random length (1 to 600 records).
private final class RebatchingDetection: DetectionRunner {
    private var stage: DetectionStage
    private var random: SimulationRandom

    init(_ stage: consuming DetectionStage, seed: UInt64) {
        self.stage = stage
        random = SimulationRandom(seed: seed, stream: 5)
    }

    func feed(_ batch: inout [DetectionStage.Item], into output: inout DetectionStage.Output) {
        var start = 0
        while start < batch.count {
            let end = min(batch.count, start + random.int(1..<601))
            var piece = Array(batch[start..<end])
            stage.feed(&piece, into: &output)
            start = end
        }
        batch.removeAll(keepingCapacity: true)
    }

    func flush(into output: inout DetectionStage.Output) {}

    func finish(into output: inout DetectionStage.Output) { stage.finish(into: &output) }

    func save(into writer: inout StateWriter) { stage.save(into: &writer) }
}
