/// A cluster as the report shows it: its decisions in order, gathered by `cluster_id`.
///
/// Decisions of consecutive runs (`--state`) keep their ids, so the lines of several files
/// about one id are one cluster.
public struct ReportCluster: Sendable, Equatable {
    public var id: String
    /// Its decisions, in the order read.
    public var decisions: [ReportDecision]

    /// The latest decision: it holds every SIM the cluster has shown and its lifetime.
    public var latest: ReportDecision { decisions[decisions.count - 1] }
    /// The `flagged` decision, or the first one read when the output began later.
    public var first: ReportDecision { decisions.first { $0.event == "flagged" } ?? decisions[0] }
    /// The severity reached (it only rises), `unrated` for outputs without one.
    public var severity: String { latest.severity ?? "unrated" }
    /// The first decision with the highest score: its reasons are why the cluster was
    /// flagged (a `closed` decision's reasons describe the silent window that closed it).
    public var peak: ReportDecision {
        decisions.reduce(decisions[0]) { $1.score > $0.score ? $1 : $0 }
    }
    /// The highest score of any decision.
    public var peakScore: Double { peak.score }
    /// `true` when a `closed` decision ended it.
    public var isClosed: Bool { decisions.contains { $0.event == "closed" } }

    /// Gathers decisions into clusters, in the order of each cluster's first line.
    ///
    /// - Complexity: O(n) in the decisions.
    public static func gather(_ decisions: [ReportDecision]) -> [ReportCluster] {
        var clusters: [ReportCluster] = []
        var index: [String: Int] = [:]
        for decision in decisions {
            if let at = index[decision.clusterID] {
                clusters[at].decisions.append(decision)
            } else {
                index[decision.clusterID] = clusters.count
                clusters.append(ReportCluster(id: decision.clusterID, decisions: [decision]))
            }
        }
        return clusters
    }
}

/// The seconds since 1970 of an ISO 8601 UTC time as catpool writes it
/// (`2026-11-20T00:16:00Z`, optionally with fractional seconds); `nil` for any other form.
public func epochSeconds(_ text: String) -> Double? {
    let bytes = Array(text.utf8)
    guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z"), bytes[4] == UInt8(ascii: "-"),
        bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
        bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":")
    else { return nil }
    func number(_ range: Range<Int>) -> Int? {
        var value = 0
        for byte in bytes[range] {
            guard byte >= 48, byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }
    guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
        let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
        (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
    else { return nil }
    var fraction = 0.0
    if bytes.count > 20 {
        guard bytes[19] == UInt8(ascii: "."), let digits = number(20..<(bytes.count - 1)) else {
            return nil
        }
        fraction = Double(digits) / pow10(bytes.count - 21)
    }
    // Days from civil (H. Hinnant's algorithm), proleptic Gregorian.
    let shiftedYear = month <= 2 ? year - 1 : year
    let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
    let yearOfEra = shiftedYear - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    let days = era * 146_097 + dayOfEra - 719_468
    return Double(days * 86_400 + hour * 3_600 + minute * 60 + second) + fraction
}

private func pow10(_ exponent: Int) -> Double {
    var value = 1.0
    for _ in 0..<exponent { value *= 10 }
    return value
}
