import CDRPipeline
import Glibc
import JSONText

/// One line on stderr, rewritten in place four times a second: how far the run has got.
///
/// `bytes decoded, records, records/s, the newest event time, clusters flagged`. Shown when
/// stderr is a terminal (or with `--progress`); cleared before any other message and at
/// the end, so logs never hold it.
struct ProgressLine {
    let isShown: Bool
    let started: Double
    private var lastShown = 0.0
    private var isOnScreen = false

    init(isShown: Bool, started: Double) {
        self.isShown = isShown
        self.started = started
    }

    mutating func update(_ statistics: RunStatistics) {
        guard isShown else { return }
        let now = monotonicSeconds()
        guard now - lastShown >= 0.25 else { return }
        lastShown = now
        let elapsed = max(now - started, 0.001)
        var text =
            "\r\u{1B}[K\(formatDecimal(Double(statistics.bytesDecoded) / 1e6, fractionDigits: 0)) MB"
        text += ", \(statistics.records) records"
        text +=
            " (\(formatDecimal(Double(statistics.records) / elapsed / 1e6, fractionDigits: 2)) M/s)"
        if let time = statistics.lastEventTime { text += ", at \(time)" }
        text += ", \(statistics.decisions["flagged", default: 0]) flagged"
        writeToStandardError(Array(text.utf8))
        isOnScreen = true
    }

    mutating func clear() {
        guard isOnScreen else { return }
        writeToStandardError(Array("\r\u{1B}[K".utf8))
        isOnScreen = false
    }
}
