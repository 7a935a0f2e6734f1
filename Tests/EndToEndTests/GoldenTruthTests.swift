import CDRSimulation
import CDRTestSupport
import Foundation
import Testing

/// The golden replays checked against what they are about, not only against themselves: a
/// regression re-recorded into `expected.jsonl` still fails here.
struct GoldenTruthTests {
    static let detectionFixtures = Fixture.all("replay").filter { $0.exists("truth.json") }

    @Test func everyDetectionFixtureHasItsTruth() {
        #expect(Self.detectionFixtures.count >= 15, "box-* and lookalike-* scenarios")
        // A missing or misplaced fixtures folder must fail, not replay nothing.
        #expect(Fixture.all("replay").count >= 20 && Fixture.all("errors").count >= 20)
    }

    /// A box scenario finds its box, and only it; a look-alike scenario flags nothing.
    @Test(arguments: detectionFixtures)
    func expectedOutputScoresAgainstTheTruth(fixture: Fixture) throws {
        let score = try DetectionScore(
            truth: Array(try Data(contentsOf: fixture.file("truth.json"))),
            output: Array(fixture.expected("expected.jsonl").utf8))
        let report = score.report()
        #expect(score.recall == 1, "\(report)")
        #expect(score.falsePositives == 0, "\(report)")
        if !score.boxes.isEmpty {
            // A SIM bank's pool is larger than the SIMs it puts to work in four hours.
            #expect(score.simRecall >= 0.7 && score.simPrecision == 1, "\(report)")
            // A humanised box brings its channels online one by one over 20 minutes.
            let allowed = fixture.folder.lastPathComponent == "box-humanised" ? 45.0 : 20
            #expect((score.medianDelayMinutes ?? .infinity) <= allowed, "\(report)")
        }
    }

    /// A decision's `lifetime.calls_out` counts each SIM's calls from the start of the first
    /// window in which the cluster showed it (its first decision's `window_start`) until the
    /// decision: recounted here from the input lines alone.
    @Test(arguments: detectionFixtures)
    func lifetimeCallsMatchTheInput(fixture: Fixture) throws {
        let decisions = fixture.expected("expected.jsonl").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let lines = try String(contentsOf: fixture.file("input.csv"), encoding: .utf8)
            .split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        let time = try #require(header.firstIndex(of: "event_time"))
        let type = try #require(header.firstIndex(of: "record_type"))
        let imsi = try #require(header.firstIndex(of: "imsi"))
        let clusters = Dictionary(grouping: decisions) { $0["cluster_id"] as? String ?? "" }
        for (id, decisions) in clusters {
            guard let last = decisions.last else { continue }
            var countedFrom: [String: String] = [:]
            for decision in decisions {
                let start = try #require(decision["window_start"] as? String)
                for sim in try #require(decision["sims"] as? [String]) where countedFrom[sim] == nil
                {
                    countedFrom[sim] = start
                }
            }
            let end = try #require(last["detected_at"] as? String)
            let lifetime = try #require(last["lifetime"] as? [String: Any])
            let calls = lines.dropFirst().filter { line in
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                guard fields.count == header.count, fields[type] == "MOC",
                    let from = countedFrom[String(fields[imsi])]
                else { return false }
                let at = Self.sortable(fields[time])
                return at >= Self.sortable(from[...]) && at < Self.sortable(end[...])
            }.count
            #expect(lifetime["calls_out"] as? Int == calls, "\(id)")
            #expect(lifetime["sims"] as? Int == countedFrom.count, "\(id)")
        }
    }

    /// `2026-11-20T00:11:59.882Z` and `2026-11-20T00:12:00Z` as strings that sort by time.
    static func sortable(_ time: Substring) -> String {
        let seconds = time.prefix(19)
        let fraction = time.dropFirst(19).prefix { $0 != "Z" }
        return seconds + (fraction.isEmpty ? ".000" : String(fraction.prefix(4)))
    }
}

/// The example in `docs/output.md` is a copy of a fixture's line: it may not drift from it.
struct DocumentedOutputTests {
    @Test func outputDocQuotesTheFixtureLineVerbatim() throws {
        let doc = try String(
            contentsOf: TestPaths.repositoryRoot.appendingPathComponent("docs/output.md"),
            encoding: .utf8)
        let fixture = try String(
            contentsOf: TestPaths.repositoryRoot.appendingPathComponent(
                "Fixtures/replay/box-one-cell/expected.jsonl"), encoding: .utf8)
        let first = try #require(fixture.split(separator: "\n").first)
        let quoted = doc.components(separatedBy: "```json\n").dropFirst().first?
            .components(separatedBy: "\n```").first
        #expect(quoted == String(first), "copy the fixture's first line into docs/output.md")
    }
}
