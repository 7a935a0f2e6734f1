import CDRPipeline
import CDRRecords
import Glibc
import JSONText

/// `--metrics-file`: the run in Prometheus text format, for node_exporter's textfile
/// collector (written atomically, so the collector never reads half a file).
///
/// Every value describes the last run (gauges), except
/// `catpool_last_success_timestamp_seconds`, carried over from the previous file when this
/// run failed, so an alert on its age fires when the nightly job stops succeeding.
struct Metrics {
    let statistics: RunStatistics
    let seconds: Double
    let status: ExitStatus
    let finishedAt: Int
    let startedAt: Int
    /// The file as the previous run left it, if any.
    let previous: [UInt8]?

    var text: [UInt8] {
        var lines: [String] = []
        func metric(_ name: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) gauge")
            for sample in samples { lines.append("\(name)\(sample.labels) \(sample.value)") }
        }
        metric(
            "catpool_records", "Records read in the last run, by record type.",
            zip(RecordType.allCases, statistics.recordsByType).map {
                ("{type=\"\($0.0)\"}", "\($0.1)")
            })
        metric(
            "catpool_rejected_lines", "Lines rejected in the last run, by reason.",
            zip(RejectReason.allCases, statistics.rejectedByReason).map {
                ("{reason=\"\($0.0.rawValue)\"}", "\($0.1)")
            })
        metric(
            "catpool_late_records", "Calls too late for any open detection window.",
            [("", "\(statistics.lateRecords)")])
        metric(
            "catpool_shed_records", "Records dropped by the detector's state cap.",
            [("", "\(statistics.shedRecords)")])
        metric(
            "catpool_evicted_sims", "SIMs evicted to stay within the state cap.",
            [("", "\(statistics.evictedSIMs)")])
        metric(
            "catpool_clusters", "Cluster decisions written in the last run, by event.",
            ["flagged", "updated", "closed"].map {
                ("{event=\"\($0)\"}", "\(statistics.decisions[$0, default: 0])")
            })
        metric(
            "catpool_bytes_decoded", "Decompressed bytes read in the last run.",
            [("", "\(statistics.bytesDecoded)")])
        metric(
            "catpool_run_seconds", "Wall-clock duration of the last run.",
            [("", formatDecimal(seconds, fractionDigits: 3))])
        metric(
            "catpool_exit_status", "Exit status of the last run (0: success).",
            [("", "\(status.rawValue)")])
        metric(
            "catpool_last_run_timestamp_seconds", "When the last run ended (Unix time).",
            [("", "\(finishedAt)")])
        let lastSuccess = status == .success ? "\(finishedAt)" : previousLastSuccess ?? "0"
        metric(
            "catpool_last_success_timestamp_seconds",
            "When the last successful run ended (Unix time; 0: never).", [("", lastSuccess)])
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    /// `catpool_last_success_timestamp_seconds` as the previous file had it.
    private var previousLastSuccess: String? {
        guard let previous else { return nil }
        let prefix = "catpool_last_success_timestamp_seconds "
        return String(decoding: previous, as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix(prefix) }
            .map { String($0.dropFirst(prefix.count)) }
    }
}
