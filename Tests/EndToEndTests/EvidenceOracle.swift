import Foundation
import Testing

/// The evidence lines of a detection run, worked out the slow and obvious way.
///
/// From a plain CSV input and the decisions (issue #12): for each SIM of each cluster,
/// every line of that SIM from the `window_start` of the first decision that lists it until
/// the cluster's `closed` decision (or the end of input). Line 1 is the header.
struct EvidenceOracle {
    struct Line: Hashable, Comparable {
        var clusterID: String
        var input = "day.csv"
        var line: Int
        var text: String
        /// The IMSI of the record (not part of the evidence line; for coverage per SIM).
        var imsi = ""

        static func < (a: Line, b: Line) -> Bool {
            (a.clusterID, a.input, a.line) < (b.clusterID, b.input, b.line)
        }
    }

    /// The expected lines of several inputs (name, contents), read as one stream.
    static func lines(inputs: [(name: String, csv: String)], decisions: [[String: Any]]) throws
        -> [Line]
    {
        try inputs.flatMap { input in
            try lines(csv: input.csv, decisions: decisions).map {
                var line = $0
                line.input = input.name
                return line
            }
        }.sorted()
    }

    /// The expected lines, sorted by cluster and line number.
    static func lines(csv: String, decisions: [[String: Any]]) throws -> [Line] {
        let whole = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions.insert(.withFractionalSeconds)
        func seconds(_ text: Any?) -> Double? {
            guard let text = text as? String else { return nil }
            return (whole.date(from: text) ?? fractional.date(from: text))?.timeIntervalSince1970
        }
        // Per cluster: each SIM's start, and the end.
        var starts: [String: [String: Double]] = [:]
        var ends: [String: Double] = [:]
        for decision in decisions {
            guard let id = decision["cluster_id"] as? String,
                let windowStart = seconds(decision["window_start"])
            else { continue }
            for sim in decision["sims"] as? [String] ?? [] where starts[id]?[sim] == nil {
                starts[id, default: [:]][sim] = windowStart
            }
            if decision["event"] as? String == "closed" {
                ends[id] = seconds(decision["detected_at"])
            }
        }
        var clustersOfSIM: [String: [(id: String, start: Double, end: Double)]] = [:]
        for (id, sims) in starts {
            for (sim, start) in sims {
                clustersOfSIM[sim, default: []].append((id, start, ends[id] ?? .infinity))
            }
        }
        let rows = csv.split(separator: "\n", omittingEmptySubsequences: false)
        let header = rows.first.map { $0.split(separator: ",").map(String.init) } ?? []
        let imsiColumn = try #require(header.firstIndex(of: "imsi"))
        let timeColumn = try #require(header.firstIndex(of: "event_time"))
        var expected: [Line] = []
        for (index, row) in rows.enumerated().dropFirst() where !row.isEmpty {
            let fields = row.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count > max(imsiColumn, timeColumn),
                let clusters = clustersOfSIM[String(fields[imsiColumn])],
                let time = seconds(String(fields[timeColumn]))
            else { continue }
            for cluster in clusters where time >= cluster.start && time <= cluster.end {
                expected.append(
                    Line(
                        clusterID: cluster.id, line: index + 1, text: String(row),
                        imsi: String(fields[imsiColumn])))
            }
        }
        return expected.sorted()
    }
}
