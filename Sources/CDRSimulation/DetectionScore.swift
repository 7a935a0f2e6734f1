import CDRRecords
import Foundation
import JSONText
import SIMBoxDetection

/// Scores detector output against a simulation's ground truth.
///
/// A flagged cluster is the union of the SIMs its events named (`flagged`, `updated`,
/// `closed` lines with one `cluster_id`). It is a true positive when most of its SIMs —
/// more than half — belong to one box; otherwise a false positive, put down to the
/// look-alike that holds most of its SIMs, or to ordinary subscribers. A box is detected
/// when a true-positive cluster matches it; its delay is the event time of that cluster's
/// first `flagged` line (`detected_at`) minus the box's start.
///
/// - precision: true-positive clusters / flagged clusters (1 when none was flagged)
/// - recall: detected boxes / boxes
/// - sim_recall: box SIMs named by a cluster matched to their box / all box SIMs
/// - delay_p50_min: the median delay of the detected boxes, in minutes
/// - fp: false-positive clusters
public struct DetectionScore: Sendable {
    /// What the truth file says about one device.
    public struct Device: Sendable {
        public var id: String
        public var kind: String
        public var sims: Set<String>
        public var start: EventTime?
    }

    /// One box's outcome.
    public struct BoxOutcome: Sendable {
        public var box: Device
        public var clusters: [String]
        public var simsFound: Int
        public var delayMinutes: Double?
        public var isDetected: Bool { !clusters.isEmpty }
    }

    /// One flagged cluster's outcome.
    public struct ClusterOutcome: Sendable {
        public var id: String
        public var sims: Set<String>
        public var firstFlagged: EventTime?
        /// The highest severity its events reached, and when each tier was first reached.
        public var severity = ClusterDecision.Severity.low
        public var firstAt: [ClusterDecision.Severity: EventTime] = [:]
        /// The box it matches, if a true positive.
        public var box: String?
        /// For a false positive: the look-alike holding most of its SIMs, or `ordinary`.
        public var blamed: String?
    }

    public private(set) var boxes: [BoxOutcome] = []
    public private(set) var clusters: [ClusterOutcome] = []
    public private(set) var lookAlikes: [Device] = []

    /// Problems with the detector output that did not stop scoring (unreadable lines).
    public private(set) var warnings: [String] = []

    public enum ScoreError: Error, CustomStringConvertible {
        case badTruth(String)
        public var description: String {
            switch self {
            case .badTruth(let reason): return "unreadable truth file: \(reason)"
            }
        }
    }

    /// Scores `output` (JSON lines from `catpool detect`) against `truth` (from `catpool simulate --truth`).
    public init(truth: [UInt8], output: [UInt8]) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(truth)) as? [String: Any],
            let boxList = object["boxes"] as? [[String: Any]],
            let lookAlikeList = object["look_alikes"] as? [[String: Any]]
        else { throw ScoreError.badTruth("expected an object with \"boxes\" and \"look_alikes\"") }
        let devices = try boxList.map(Self.device)
        lookAlikes = try lookAlikeList.map(Self.device)

        // Gather clusters in order of first appearance.
        var order: [String] = []
        var byID: [String: ClusterOutcome] = [:]
        for (number, line) in output.split(separator: 0x0A).enumerated() {
            guard let event = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let id = (event["cluster_id"] as? String)
                    ?? (event["cluster_id"] as? Int).map(String.init)
            else {
                warnings.append("output line \(number + 1): not a detector event")
                continue
            }
            if byID[id] == nil {
                order.append(id)
                byID[id] = ClusterOutcome(id: id, sims: [], firstFlagged: nil)
            }
            byID[id]?.sims.formUnion((event["sims"] as? [String]) ?? [])
            let at = (event["detected_at"] as? String).flatMap(Self.time)
            if event["event"] as? String == "flagged", byID[id]?.firstFlagged == nil {
                byID[id]?.firstFlagged = at
            }
            // Output without severities (older versions) counts as low.
            let severity =
                (event["severity"] as? String).flatMap(ClusterDecision.Severity.init(name:))
                ?? .low
            if var cluster = byID[id] {
                cluster.severity = max(cluster.severity, severity)
                for tier in ClusterDecision.Severity.allCases
                where tier <= severity && cluster.firstAt[tier] == nil {
                    cluster.firstAt[tier] = at
                }
                byID[id] = cluster
            }
        }
        let simOwner = Dictionary(
            devices.flatMap { device in device.sims.map { ($0, device.id) } },
            uniquingKeysWith: { a, _ in a })
        let lookAlikeOwner = Dictionary(
            lookAlikes.flatMap { device in device.sims.map { ($0, device.id) } },
            uniquingKeysWith: { a, _ in a })
        for id in order {
            guard var cluster = byID[id] else { continue }
            cluster.box = Self.majority(of: cluster.sims, owners: simOwner)
            if cluster.box == nil {
                cluster.blamed =
                    Self.majority(of: cluster.sims, owners: lookAlikeOwner) ?? "ordinary"
            }
            clusters.append(cluster)
        }
        boxes = devices.map { box in
            let matched = clusters.filter { $0.box == box.id }
            let found = box.sims.intersection(
                matched.reduce(into: Set<String>()) { $0.formUnion($1.sims) }
            ).count
            let first = matched.compactMap(\.firstFlagged).min()
            var delay: Double?
            if let first, let start = box.start {
                delay = Double(first.millisecondsSinceEpoch - start.millisecondsSinceEpoch) / 60_000
            }
            return BoxOutcome(
                box: box, clusters: matched.map(\.id), simsFound: found, delayMinutes: delay)
        }
    }

    public var precision: Double {
        clusters.isEmpty
            ? 1 : Double(clusters.filter { $0.box != nil }.count) / Double(clusters.count)
    }
    public var recall: Double {
        boxes.isEmpty ? 1 : Double(boxes.filter(\.isDetected).count) / Double(boxes.count)
    }
    public var simRecall: Double {
        let total = boxes.reduce(0) { $0 + $1.box.sims.count }
        return total == 0 ? 1 : Double(boxes.reduce(0) { $0 + $1.simsFound }) / Double(total)
    }
    public var medianDelayMinutes: Double? { Self.median(boxes.compactMap(\.delayMinutes)) }
    public var falsePositives: Int { clusters.filter { $0.box == nil }.count }

    /// SIMs named by clusters that belong to the box their cluster matched / all SIMs named:
    /// ordinary subscribers merged into a box's cluster count against it.
    public var simPrecision: Double {
        let named = clusters.reduce(0) { $0 + $1.sims.count }
        guard named > 0 else { return 1 }
        let simsOfBox = Dictionary(uniqueKeysWithValues: boxes.map { ($0.box.id, $0.box.sims) })
        let right = clusters.reduce(0) { total, cluster in
            total
                + (cluster.box.flatMap { simsOfBox[$0] }.map { cluster.sims.intersection($0).count }
                    ?? 0)
        }
        return Double(right) / Double(named)
    }

    /// Outcome of the clusters that reached `tier` or above, as if only they had been flagged.
    public struct TierOutcome: Sendable {
        public var tier: ClusterDecision.Severity
        public var clusters: Int
        public var falsePositives: Int
        public var boxesFound: Int
        public var medianDelayMinutes: Double?
        public var precision: Double {
            clusters == 0 ? 1 : Double(clusters - falsePositives) / Double(clusters)
        }
    }

    public func outcome(atOrAbove tier: ClusterDecision.Severity) -> TierOutcome {
        let reached = clusters.filter { $0.severity >= tier }
        var delays: [Double] = []
        var found = 0
        for box in boxes {
            let matched = reached.filter { $0.box == box.box.id }
            guard !matched.isEmpty else { continue }
            found += 1
            if let first = matched.compactMap({ $0.firstAt[tier] }).min(), let start = box.box.start
            {
                delays.append(
                    Double(first.millisecondsSinceEpoch - start.millisecondsSinceEpoch) / 60_000)
            }
        }
        return TierOutcome(
            tier: tier, clusters: reached.count,
            falsePositives: reached.filter { $0.box == nil }.count, boxesFound: found,
            medianDelayMinutes: Self.median(delays))
    }

    /// The report: a table per box kind, a table per look-alike kind, and the summary line.
    public func report() -> String {
        var lines = ["box kind            boxes  detected  sims  sim_recall  delay_p50_min"]
        let kinds = boxes.map(\.box.kind).uniqued()
        for kind in kinds {
            let group = boxes.filter { $0.box.kind == kind }
            let sims = group.reduce(0) { $0 + $1.box.sims.count }
            let found = group.reduce(0) { $0 + $1.simsFound }
            let simRecall = sims == 0 ? 1 : Double(found) / Double(sims)
            let delay = Self.median(group.compactMap(\.delayMinutes)).map {
                formatDecimal($0, fractionDigits: 1)
            }
            let cells: [String] = [
                pad(kind, 18), pad(String(group.count), 7, right: true),
                pad(String(group.filter(\.isDetected).count), 10, right: true),
                pad(String(sims), 6, right: true),
                pad(formatDecimal(simRecall, fractionDigits: 3), 12, right: true),
                pad(delay ?? "-", 15, right: true),
            ]
            lines.append(cells.joined())
        }
        lines.append("")
        lines.append("look-alike kind     count  flagged_clusters")
        let blamed = clusters.compactMap(\.blamed)
        for kind in lookAlikes.map(\.kind).uniqued() {
            let ids = Set(lookAlikes.filter { $0.kind == kind }.map(\.id))
            lines.append(
                pad(kind, 18) + pad(String(ids.count), 7, right: true)
                    + pad(String(blamed.filter { ids.contains($0) }.count), 18, right: true))
        }
        lines.append(
            pad("ordinary", 18) + pad("-", 7, right: true)
                + pad(String(blamed.filter { $0 == "ordinary" }.count), 18, right: true))
        lines.append("")
        lines.append(
            "severity (and above)  clusters  false  precision  boxes  recall  delay_p50_min")
        for tier in ClusterDecision.Severity.allCases.reversed() {
            let outcome = outcome(atOrAbove: tier)
            let recall = boxes.isEmpty ? 1 : Double(outcome.boxesFound) / Double(boxes.count)
            let cells: [String] = [
                pad(tier.name, 20), pad(String(outcome.clusters), 10, right: true),
                pad(String(outcome.falsePositives), 7, right: true),
                pad(formatDecimal(outcome.precision, fractionDigits: 3), 11, right: true),
                pad(String(outcome.boxesFound), 7, right: true),
                pad(formatDecimal(recall, fractionDigits: 3), 8, right: true),
                pad(
                    outcome.medianDelayMinutes.map { formatDecimal($0, fractionDigits: 1) } ?? "-",
                    15, right: true),
            ]
            lines.append(cells.joined())
        }
        lines.append("")
        lines.append(
            "precision=\(formatDecimal(precision, fractionDigits: 3)) recall=\(formatDecimal(recall, fractionDigits: 3)) "
                + "sim_recall=\(formatDecimal(simRecall, fractionDigits: 3)) "
                + "delay_p50_min=\(medianDelayMinutes.map { formatDecimal($0, fractionDigits: 1) } ?? "-") fp=\(falsePositives) "
                + "sim_precision=\(formatDecimal(simPrecision, fractionDigits: 3))"
        )
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - Private

    private static func device(_ object: [String: Any]) throws -> Device {
        guard let id = object["id"] as? String, let kind = object["kind"] as? String,
            let sims = object["sims"] as? [String]
        else {
            throw ScoreError.badTruth("a device lacks id, kind or sims")
        }
        return Device(
            id: id, kind: kind, sims: Set(sims), start: (object["start"] as? String).flatMap(time))
    }

    private static func time(_ text: String) -> EventTime? {
        var text = text
        var parser = TimestampParser()
        return text.withUTF8 { parser.parse(UnsafeRawBufferPointer($0)) }
    }

    /// The owner of more than half of `sims`, if any.
    private static func majority(of sims: Set<String>, owners: [String: String]) -> String? {
        var counts: [String: Int] = [:]
        for sim in sims { if let owner = owners[sim] { counts[owner, default: 0] += 1 } }
        guard let best = counts.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }),
            best.value * 2 > sims.count
        else { return nil }
        return best.key
    }

    private static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }
}
