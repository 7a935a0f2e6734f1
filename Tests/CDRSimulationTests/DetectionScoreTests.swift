import CDRRecords
import CDRSimulation
import Foundation
import Testing

struct DetectionScoreTests {
    static let simulator: DaySimulator = {
        var configuration = DaySimulator.Configuration()
        configuration.subscribers = 1000
        configuration.hours = 12
        configuration.boxes = 4
        return DaySimulator(configuration: configuration)
    }()

    static func sims(_ imsis: [UInt64]) -> [String] {
        imsis.compactMap { IMSI(rawValue: $0)?.description }
    }

    static func event(
        _ kind: String, _ id: String, _ sims: [String], at time: EventTime,
        severity: String = "low"
    ) -> String {
        let list = sims.map { "\"\($0)\"" }.joined(separator: ",")
        return
            "{\"event\":\"\(kind)\",\"cluster_id\":\"\(id)\",\"detected_at\":\"\(time)\",\"sims\":[\(list)],\"severity\":\"\(severity)\"}"
    }

    @Test func scoresHitsMissesAndFalsePositives() throws {
        let boxes = Self.simulator.boxes
        let truth = Self.simulator.truthJSON()
        let start0 = EventTime(millisecondsSinceEpoch: boxes[0].startMilliseconds)
        let start1 = EventTime(millisecondsSinceEpoch: boxes[1].startMilliseconds)
        let box0 = Self.sims(boxes[0].imsis)
        let box1 = Self.sims(boxes[1].imsis)
        let callCentre = Self.sims(
            Self.simulator.lookAlikes.first { $0.kind == .callCentre }?.imsis ?? [])
        let lines = [
            // box 0: found in two steps, six then ten minutes after it started.
            Self.event(
                "flagged", "c1", Array(box0.prefix(4)),
                at: EventTime(millisecondsSinceEpoch: start0.millisecondsSinceEpoch + 6 * 60_000)),
            Self.event(
                "updated", "c1", box0,
                at: EventTime(millisecondsSinceEpoch: start0.millisecondsSinceEpoch + 10 * 60_000),
                severity: "high"),
            // box 1: a cluster with half its SIMs and as many strangers is no match.
            Self.event(
                "flagged", "c2", Array(box1.prefix(4)) + Array(callCentre.prefix(4)), at: start1),
            // a call centre flagged: a false positive put down to it.
            Self.event("flagged", "c3", Array(callCentre.prefix(10)), at: start1),
            "not json",
        ].joined(separator: "\n")
        let score = try DetectionScore(truth: truth, output: Array(lines.utf8))
        #expect(score.clusters.map(\.id) == ["c1", "c2", "c3"])
        #expect(score.precision == 1.0 / 3.0)
        #expect(score.recall == 0.25)
        let totalSIMs = boxes.reduce(0) { $0 + $1.imsis.count }
        #expect(score.simRecall == Double(box0.count) / Double(totalSIMs))
        #expect(score.medianDelayMinutes == 6)
        #expect(score.falsePositives == 2)
        #expect(score.clusters[2].blamed == "call-centre-1")
        #expect(score.clusters[1].blamed == "ordinary")
        #expect(score.warnings == ["output line 5: not a detector event"])
        let report = score.report()
        #expect(score.simPrecision == Double(box0.count) / Double(box0.count + 8 + 10))
        #expect(
            report.hasSuffix(
                "precision=0.333 recall=0.25 sim_recall=\(formatRatio(score.simRecall)) delay_p50_min=6 fp=2 sim_precision=\(formatRatio(score.simPrecision))\n"
            ))
        #expect(report.contains("call-centre"))
        // The high tier holds only box 0's cluster, reached ten minutes after the box began.
        let high = score.outcome(atOrAbove: .high)
        #expect(high.clusters == 1 && high.falsePositives == 0 && high.boxesFound == 1)
        #expect(high.precision == 1 && high.medianDelayMinutes == 10)
        let low = score.outcome(atOrAbove: .low)
        #expect(low.clusters == 3 && low.falsePositives == 2 && low.medianDelayMinutes == 6)
        #expect(report.contains("high                         1      0          1      1    0.25"))
    }

    @Test func scoresSilenceAsFullPrecisionAndNoRecall() throws {
        let score = try DetectionScore(truth: Self.simulator.truthJSON(), output: [])
        #expect(
            score.precision == 1 && score.recall == 0 && score.simRecall == 0
                && score.falsePositives == 0)
        #expect(
            score.report().hasSuffix(
                "precision=1 recall=0 sim_recall=0 delay_p50_min=- fp=0 sim_precision=1\n"))
    }

    @Test func refusesATruthFileOfAnotherShape() {
        #expect(throws: DetectionScore.ScoreError.self) {
            try DetectionScore(truth: Array("{}".utf8), output: [])
        }
    }

    private func formatRatio(_ value: Double) -> String {
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
