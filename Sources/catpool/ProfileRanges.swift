import Foundation

/// The range each detection-profile setting may take, checked where a profile file enters
/// (`--profile`, also for `catpool profile`), with the duplicate names `DetectionProfile`
/// itself lets pass (the last would win silently; #13 rows 5 and 19).
///
/// The ranges keep every setting meaningful and the detector's memory and time bounded: a
/// day-long window at most, evaluated at most once a minute. README, "Profile settings",
/// lists them.
enum ProfileRanges {
    static let ranges: [String: ClosedRange<Double>] = [
        "window_minutes": 1...1440,
        "hop_minutes": 1...60,
        "lateness_minutes": 0...1440,
        "min_calls_per_sim": 1...10_000,
        "min_outbound_share": 0...1,
        "min_distinct_callee_share": 0...1,
        "max_answered_share": 0...1,
        "max_mean_answered_seconds": 0...86_400,
        "max_data_sessions_24h": 0...100_000,
        "min_sims": 2...10_000,
        "saturating_calls_per_minute": 0.01...10_000,
        "machine_calls_per_sim_hour": 1...3_600,
        "score_threshold": 0...1,
        "medium_score": 0...1,
        "high_score": 0...1,
    ]

    /// The first problem of a profile file: a setting given twice (naming both lines) or a
    /// value outside its range, as `(line, message)`; `nil` when there is none.
    ///
    /// Lines are read as `DetectionProfile` reads them (`#` comments, `NAME = VALUE`); call
    /// this on a text it has accepted.
    static func problem(in text: String) -> (line: Int, message: String)? {
        var firstLine: [String: Int] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let content =
                raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                .first ?? ""
            let parts = content.split(separator: "=", maxSplits: 1).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            let name = parts[0]
            if let first = firstLine.updateValue(index + 1, forKey: name) {
                return (index + 1, "\(name) is set twice (first on line \(first))")
            }
            if let range = ranges[name], !range.contains(value) {
                return (
                    index + 1,
                    "\(name) = \(parts[1]) is outside \(format(range.lowerBound))..."
                        + "\(format(range.upperBound))"
                )
            }
        }
        return nil
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
