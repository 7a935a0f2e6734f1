import CDRPipeline
import Glibc
import JSONText

// MARK: - Ending

extension RunLoop {
    /// Ends the run however the reading stopped: the last decisions on a signal, the reject
    /// ratio, every output flushed, `--stats`, the state file committed or abandoned, the
    /// warnings and summary, and `--metrics-file`.
    ///
    /// Every ending writes `--stats` and `--metrics-file` (#13 row 12): each step runs even
    /// when one before it failed; a closed stdout stays a quiet, successful end.
    ///
    /// - Returns: how the run failed, `nil` when it did not.
    func end(
        _ pipeline: inout Pipeline, writer: inout RunWriter, failure: RunFailure?,
        stateFile: AtomicFileWriter?, started: (monotonic: Double, wall: Int)
    ) -> RunFailure? {
        var failure = failure
        writer.progress.clear()
        let signal = receivedSignal.load(ordering: .relaxed)
        if signal != 0 {
            // Stopped from outside: what was decided goes out; the state file stays as it was.
            pipeline.flush(into: &writer.output)
            try? writer.write(pipeline)
            failure = .signal(signal)
        }
        let seconds = monotonicSeconds() - started.monotonic
        let statistics = pipeline.statistics
        if failure == nil, !writer.isStdoutClosed, statistics.rejectRatio > options.maxRejectRatio {
            printError(
                "rejected \(statistics.rejected) of \(statistics.dataLines) data lines "
                    + "(\(formatDecimal(statistics.rejectRatio * 100, fractionDigits: 2)) %), "
                    + "more than --max-reject-ratio \(formatDecimal(options.maxRejectRatio, fractionDigits: 4))"
            )
            failure = .badData
        }
        func step(_ body: () throws(OutputFile.OutputError) -> Void) {
            do {
                try body()
            } catch .closed {
                writer.isStdoutClosed = true
            } catch {
                printError("\(error)")
                failure = .io
            }
        }
        let files = writer.files
        step { () throws(OutputFile.OutputError) in try files.rejects?.flush() }
        step { () throws(OutputFile.OutputError) in try files.evidence?.flush() }
        if let counts = pipeline.evidenceCounts, counts.forcedReleases > 0 {
            printError(
                "warning: --evidence held its limit of text (\(counts.peakBytes >> 20) MiB) and "
                    + "released \(counts.forcedReleases) records before every decision that could "
                    + "name them was known: evidence lines may be missing")
        }
        if !writer.isStdoutClosed {
            step { () throws(OutputFile.OutputError) in try files.standardOutput.flush() }
        }
        if let path = options.stats {
            step { () throws(OutputFile.OutputError) in
                let file = try OutputFile(creating: path)
                try file.write(statistics.json(seconds: seconds, threads: threadUse.all))
                try file.flush()
            }
        }
        if let stateFile {
            if failure == nil, !writer.isStdoutClosed {
                step { () throws(OutputFile.OutputError) in try stateFile.commit() }
            } else {
                stateFile.abandon()
            }
        }
        if failure == nil, !writer.isStdoutClosed {
            let warnings = RunWarnings(
                statistics: statistics, firstOtherType: pipeline.firstOtherType,
                restoredWatermark: pipeline.restoredWatermark, statePath: statePath)
            for message in warnings.messages { printError(message) }
        }
        if !options.quiet, !writer.isStdoutClosed {
            printError(statistics.summary(seconds: seconds))
        }
        if let path = options.metricsFile,
            !writeMetrics(
                to: path, statistics: statistics, seconds: seconds, status: ExitStatus(failure),
                startedAt: started.wall), failure == nil
        {
            failure = .io
        }
        return failure
    }

    /// Writes `--metrics-file`; `false` after printing why it could not be written.
    ///
    /// A device or FIFO (/dev/null, a pipe to a collector) is written in place, never
    /// replaced by a file, and never read back (/dev/full reads without end; #13).
    private func writeMetrics(
        to path: String, statistics: RunStatistics, seconds: Double, status: ExitStatus,
        startedAt: Int
    ) -> Bool {
        let isSpecial = Preflight.isSpecialFile(path)
        let previous = isSpecial ? nil : (try? AtomicFile.read(path, limit: 1 << 20)) ?? nil
        let metrics = Metrics(
            statistics: statistics, seconds: seconds, status: status, finishedAt: time(nil),
            startedAt: startedAt, previous: previous)
        do {
            if isSpecial {
                let file = try OutputFile(creating: path)
                try file.write(metrics.text)
                try file.flush()
            } else {
                try AtomicFile.write(metrics.text, to: path)
            }
            return true
        } catch {
            printError("\(error)")
            return false
        }
    }
}
