import CDRPipeline
import CDRRecords
import CDRSimulation
import SIMBoxDetection
import Testing

/// Regression guards on detection quality: simulated days with every kind of box, detected
/// from a cold start and scored against their truth.
struct DetectionQualityTests {
    /// Simulates `configuration`, detects with its cell table and scores the decisions.
    static func detectAndScore(_ configuration: DaySimulator.Configuration) throws -> (
        score: DetectionScore, statistics: RunStatistics
    ) {
        var simulator = DaySimulator(configuration: configuration)
        var day: [UInt8] = []
        try simulator.run { day.append(contentsOf: $0) }

        var pipelineConfiguration = PipelineConfiguration()
        pipelineConfiguration.detection = .init(
            cellTable: try CellTable(bytes: simulator.city.cellTable()))
        var pipeline = try Pipeline(configuration: pipelineConfiguration)
        var output = PipelineOutput()
        try pipeline.feed(.begin(name: "day"), into: &output)
        try day.withUnsafeBytes { try pipeline.feed(.bytes($0), into: &output) }
        try pipeline.feed(
            .end(
                bytesIn: day.count, format: .plain, isCutShort: false), into: &output)
        pipeline.finish(into: &output)
        return (
            try DetectionScore(truth: simulator.truthJSON(), output: output.events),
            pipeline.statistics
        )
    }

    /// A crowded small town: one look-alike of each kind, boxes passing each other's sites.
    @Test func aCrowdedTownKeepsTheQualityFloors() throws {
        var configuration = DaySimulator.Configuration()
        configuration.seed = 42
        configuration.subscribers = 4000
        configuration.boxes = CatPoolBox.Kind.allCases.count
        configuration.disorderSeconds = 300
        configuration.badLineRate = 0.001
        let (score, statistics) = try Self.detectAndScore(configuration)
        #expect(score.recall >= 0.95, "\(score.report())")
        #expect(score.precision >= 0.95, "\(score.report())")
        #expect(
            score.clusters.allSatisfy { $0.blamed == nil }, "no look-alike or ordinary SIMs flagged"
        )
        #expect((score.medianDelayMinutes ?? .infinity) <= 10)
        #expect(statistics.lateRecords == 0)
    }

    /// A realistic morning, at ten times a city's look-alike density so that a small town has
    /// several of each (4 call centres, 3 busy hubs, 5 telemarketers, …), a site per 100
    /// subscribers, a tenth of the records up to five minutes late: held to the figures of the
    /// precision issue (docs/detection.md has the full-size days).
    @Test func aRealisticMorningKeepsItsFigures() throws {
        var configuration = DaySimulator.Configuration()
        configuration.seed = 42
        configuration.subscribers = 10_000
        configuration.hours = 12
        configuration.boxes = CatPoolBox.Kind.allCases.count
        configuration.subscribersPerSite = 100
        configuration.lookAlikesPer100k = LookAlike.realisticDensity.mapValues { $0 * 10 }
        configuration.disorderSeconds = 300
        configuration.lateShare = 0.1
        let (score, _) = try Self.detectAndScore(configuration)
        let report = score.report()
        #expect(score.lookAlikes.count >= 15, "\(report)")
        #expect(score.recall == 1, "\(report)")
        #expect(score.falsePositives == 0, "\(report)")
        #expect(score.simPrecision >= 0.97, "\(report)")
        #expect((score.medianDelayMinutes ?? .infinity) <= 5, "\(report)")
        let high = score.outcome(atOrAbove: .high)
        #expect(high.precision == 1, "\(report)")
        #expect(Double(high.boxesFound) >= 0.75 * Double(score.boxes.count), "\(report)")
    }
}
