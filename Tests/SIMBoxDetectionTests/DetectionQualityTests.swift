import CDRPipeline
import CDRRecords
import CDRSimulation
import Testing

/// A regression guard on detection quality: a simulated day with every kind of box and
/// look-alike, detected and scored, must keep the floors of the detection issue.
struct DetectionQualityTests {
    @Test func aSimulatedDayKeepsTheQualityFloors() throws {
        var configuration = DaySimulator.Configuration()
        configuration.seed = 42
        configuration.subscribers = 4000
        configuration.boxes = CatPoolBox.Kind.allCases.count
        configuration.disorderSeconds = 300
        configuration.badLineRate = 0.001
        var simulator = DaySimulator(configuration: configuration)
        var day: [UInt8] = []
        try simulator.run { day.append(contentsOf: $0) }

        var pipelineConfiguration = PipelineConfiguration()
        pipelineConfiguration.detection = .init(
            cellTable: try CellTable(bytes: simulator.city.cellTable()))
        var pipeline = try Pipeline(configuration: pipelineConfiguration)
        var output = PipelineOutput()
        pipeline.beginInput(named: "day")
        try day.withUnsafeBytes { try pipeline.feed($0, into: &output) }
        try pipeline.finishInput(
            bytesIn: day.count, format: .plain, isCutShort: false, into: &output)
        pipeline.finish(into: &output)

        let score = try DetectionScore(truth: simulator.truthJSON(), output: output.events)
        #expect(score.recall >= 0.95, "\(score.report())")
        #expect(score.precision >= 0.95, "\(score.report())")
        #expect(
            score.clusters.allSatisfy { $0.blamed == nil }, "no look-alike or ordinary SIMs flagged"
        )
        #expect((score.medianDelayMinutes ?? .infinity) <= 10)
        #expect(pipeline.statistics.lateRecords == 0)
    }
}
