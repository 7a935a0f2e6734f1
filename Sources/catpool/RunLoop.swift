import CDRInput
import CDRPipeline
import Glibc
import SIMBoxDetection
import Synchronization

/// The signal that asked the run to stop (SIGINT or SIGTERM), 0 while none has.
///
/// Set from the signal handler (a lock-free atomic store is async-signal-safe) and read by
/// the run loop between chunks, and at least every 100 ms while the input is quiet.
let receivedSignal = Atomic<Int32>(0)

/// Drives one run: reader thread → pipeline → outputs, then statistics and the exit status.
struct RunLoop {
    let options: InputOptions
    let configuration: PipelineConfiguration
    /// `--state`: continue from this file and replace it at a successful end.
    var statePath: String?
    /// `--state-reset`: a state file that cannot be continued from is set aside, not an error.
    var resetsUnusableState = false
    /// `--evidence`: where the evidence lines go (never stdout: it carries the decisions).
    var evidencePath: String?

    /// Runs to the end of the inputs and returns how the process should exit.
    func run() -> ExitStatus {
        let started = monotonicSeconds()
        let startedAt = time(nil)
        if options.inputs.contains("-"), isatty(0) == 1 {
            printError("reading CDRs from a terminal; pipe a dump in or name files (see --help)")
            return .usage
        }
        let outputs = [
            ("--rejects", options.rejects), ("--stats", options.stats),
            ("--metrics-file", options.metricsFile), ("--state", statePath),
            ("--evidence", evidencePath),
        ].compactMap { flag, path in path.map { (flag: flag, path: $0) } }
        // The key file counts as an input: no output may overwrite it.
        let protected = options.inputs + (options.pseudonymise.map { [$0] } ?? [])
        if let refused = Preflight.checkOutputs(outputs, inputs: protected) { return refused }
        // Holds the --state lock until the run returns (the defer keeps it alive that long).
        var stateGuard: StateFileGuard?
        if let statePath {
            var refusal = ExitStatus.failure
            stateGuard = StateFileGuard(statePath: statePath, refusal: &refusal)
            if stateGuard == nil { return refusal }
        }
        defer { withExtendedLifetime(stateGuard) {} }
        if let path = options.metricsFile { StateFileGuard.removeStaleTemporaries(of: path) }
        let rejectsFile: OutputFile?
        let evidenceFile: OutputFile?
        do {
            rejectsFile = try options.rejects.map { path throws(OutputFile.OutputError) in
                try OutputFile(creating: path)
            }
            evidenceFile = try evidencePath.map { path throws(OutputFile.OutputError) in
                try OutputFile(creating: path, capacity: 1 << 20)
            }
        } catch {
            printError("\(error)")
            return .ioError
        }
        let standardOutput = OutputFile(descriptor: 1, path: "stdout", capacity: 64 * 1024)
        installSignalHandlers()
        var pipeline: Pipeline
        switch makePipeline(stateGuard: stateGuard) {
        case .success(let made): pipeline = made
        case .failure(let error): return error.status
        }
        let reader = DecodingReader(inputs: options.inputs)
        reader.start()
        if configuration.detection != nil { lowerThreadPriority() }
        var output = PipelineOutput()
        var status = ExitStatus.success
        var inputName = "-"
        var stateFile: AtomicFileWriter?
        var isStdoutClosed = false
        var progress = ProgressLine(
            isShown: options.progress ?? (isatty(2) == 1 && !options.quiet), started: started)
        // On a terminal, a decision must not land on the end of the progress line.
        let stdoutIsTerminal = isatty(1) == 1
        var hasWarnedOfNaiveTimes = options.timezone != nil

        func drain() throws(OutputFile.OutputError) {
            if !output.warnings.isEmpty || (stdoutIsTerminal && !output.events.isEmpty) {
                progress.clear()
            }
            if !hasWarnedOfNaiveTimes, pipeline.hasReadNaiveTime {
                hasWarnedOfNaiveTimes = true
                progress.clear()
                printError(RunWarnings.naiveTimes)
            }
            for warning in output.warnings where !options.quiet { printError(warning.message) }
            if !output.events.isEmpty {
                try standardOutput.write(output.events)
                try standardOutput.flush()
            }
            if let rejectsFile, !output.rejects.isEmpty { try rejectsFile.write(output.rejects) }
            if let evidenceFile, !output.evidence.isEmpty {
                try evidenceFile.write(output.evidence)
            }
            output.removeAll()
        }

        do {
            reading: while true {
                if receivedSignal.load(ordering: .relaxed) != 0 { break reading }
                if !reader.waitForEvent(seconds: 0.05) {
                    // The input has gone quiet (a live feed): put out every decision the
                    // records so far have made before waiting for more.
                    pipeline.flush(into: &output)
                    try drain()
                    while !reader.waitForEvent(seconds: 0.1) {
                        if receivedSignal.load(ordering: .relaxed) != 0 { break reading }
                        progress.update(pipeline.statistics)
                    }
                }
                switch reader.next() {
                case .begin(let name):
                    inputName = name
                    pipeline.beginInput(named: name)
                case .data(let buffer, let count):
                    try pipeline.feed(
                        UnsafeRawBufferPointer(rebasing: buffer[..<count]), into: &output)
                    reader.recycle(buffer)
                    progress.update(pipeline.statistics)
                case .end(let bytesIn, let format, let sha256):
                    try pipeline.finishInput(
                        bytesIn: bytesIn, format: format, sha256: sha256, isCutShort: false,
                        into: &output)
                case .corrupt(let error, let bytesIn, let format):
                    try pipeline.finishInput(
                        bytesIn: bytesIn, format: format, isCutShort: true, into: &output)
                    pipeline.flush(into: &output)
                    try drain()
                    progress.clear()
                    if case .unsupportedFormat(let format, let command) = error {
                        let source = inputName == "-" ? "stdin" : "input \(inputName)"
                        let file = inputName == "-" ? "FILE" : inputName
                        printError(
                            "\(source) is \(format)-compressed; decompress it first "
                                + "(\(command) \(file) | catpool …)")
                    } else {
                        printError("\(inputName): \(error)")
                    }
                    status = .dataError
                    break reading
                case .unreadable(let name, let reason):
                    if name == inputName, pipeline.statistics.inputs.last?.name == name {
                        try pipeline.finishInput(
                            bytesIn: 0, format: nil, isCutShort: true, into: &output)
                    }
                    pipeline.flush(into: &output)
                    try drain()
                    progress.clear()
                    printError("cannot read \(name): \(reason)")
                    status = .ioError
                    break reading
                case .finished:
                    if let statePath {
                        // The windows stay open: the next run's records continue them. The
                        // file replaces the old one only if the run ends well (below).
                        let file = try AtomicFileWriter(path: statePath)
                        var writer = StateWriter { bytes in try file.write(bytes) }
                        pipeline.saveState(to: &writer, into: &output)
                        if let failure = writer.failure { throw failure }
                        stateFile = file
                    } else {
                        pipeline.finish(into: &output)
                    }
                    try drain()
                    break reading
                }
                try drain()
            }
        } catch let error as PipelineError {
            pipeline.flush(into: &output)
            try? drain()
            progress.clear()
            printError(error.message)
            status = .dataError
        } catch OutputFile.OutputError.closed {
            isStdoutClosed = true  // the reader of stdout has gone: a normal end
        } catch {
            printError("\(error)")
            status = .ioError
        }
        progress.clear()

        let signal = receivedSignal.load(ordering: .relaxed)
        if signal != 0 {
            // Stopped from outside: what was decided goes out; the state file stays as it was.
            pipeline.flush(into: &output)
            try? drain()
            status = signal == SIGINT ? .interrupted : .terminated
        }

        let seconds = monotonicSeconds() - started
        let statistics = pipeline.statistics
        if status == .success, !isStdoutClosed, statistics.rejectRatio > options.maxRejectRatio {
            printError(
                "rejected \(statistics.rejected) of \(statistics.dataLines) data lines "
                    + "(\(formatDecimal(statistics.rejectRatio * 100, fractionDigits: 2)) %), "
                    + "more than --max-reject-ratio \(formatDecimal(options.maxRejectRatio, fractionDigits: 4))"
            )
            status = .dataError
        }
        // Every ending writes --stats and --metrics-file (#13 row 12): each step runs even
        // when one before it failed; a closed stdout stays a quiet, successful end.
        func ending(_ step: () throws(OutputFile.OutputError) -> Void) {
            do {
                try step()
            } catch .closed {
                isStdoutClosed = true
            } catch {
                printError("\(error)")
                status = .ioError
            }
        }
        ending { () throws(OutputFile.OutputError) in try rejectsFile?.flush() }
        ending { () throws(OutputFile.OutputError) in try evidenceFile?.flush() }
        if let counts = pipeline.evidenceCounts, counts.forcedReleases > 0 {
            printError(
                "warning: --evidence held its limit of text (\(counts.peakBytes >> 20) MiB) and "
                    + "released \(counts.forcedReleases) records before every decision that could "
                    + "name them was known: evidence lines may be missing")
        }
        if !isStdoutClosed {
            ending { () throws(OutputFile.OutputError) in try standardOutput.flush() }
        }
        if let path = options.stats {
            ending { () throws(OutputFile.OutputError) in
                let file = try OutputFile(creating: path)
                try file.write(statistics.json(seconds: seconds))
                try file.flush()
            }
        }
        if let stateFile {
            if status == .success, !isStdoutClosed {
                ending { () throws(OutputFile.OutputError) in try stateFile.commit() }
            } else {
                stateFile.abandon()
            }
        }
        if status == .success, !isStdoutClosed {
            let warnings = RunWarnings(
                statistics: statistics, firstOtherType: pipeline.firstOtherType,
                restoredWatermark: pipeline.restoredWatermark, statePath: statePath)
            for message in warnings.messages { printError(message) }
        }
        if !options.quiet, !isStdoutClosed { printError(statistics.summary(seconds: seconds)) }
        if let path = options.metricsFile {
            // A device or FIFO (/dev/null, a pipe to a collector) is written in place, never
            // replaced by a file, and never read back (/dev/full reads without end; #13).
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
            } catch {
                printError("\(error)")
                if status == .success { status = .ioError }
            }
        }
        return status
    }

    /// The pipeline, continuing `--state` when its file exists.
    private func makePipeline(stateGuard: StateFileGuard?) -> Result<Pipeline, ExitStatusError> {
        var stateInput: InputFile?
        if let statePath {
            do {
                stateInput = try InputFile(path: statePath)
            } catch {
                printError("cannot read state file \(statePath): \(error.reason)")
                return .failure(ExitStatusError(status: .ioError))
            }
        }
        do {
            let reader = stateInput.map { file in
                StateReader(
                    source: { buffer in try file.read(into: buffer) },
                    rewind: { try file.rewind() })
            }
            return .success(
                try Pipeline(
                    configuration: configuration, continuing: reader,
                    runningDetection: { DetectorThread($0) }))
        } catch let error as StateError {
            guard resetsUnusableState, let statePath else {
                printError(
                    "cannot continue from state file \(statePath ?? "-"): \(error) "
                        + "(--state-reset starts afresh and replaces it at the end)")
                return .failure(ExitStatusError(status: .dataError))
            }
            guard let setAside = stateGuard?.setAside() else {
                return .failure(ExitStatusError(status: .ioError))
            }
            printError(
                "warning: state file \(statePath) set aside as \(setAside) (\(error)): "
                    + "starting afresh")
            do {
                return .success(
                    try Pipeline(
                        configuration: configuration, runningDetection: { DetectorThread($0) }))
            } catch {
                printError("\(error)")
                return .failure(ExitStatusError(status: .usage))
            }
        } catch {
            printError("\(error)")
            return .failure(ExitStatusError(status: .usage))
        }
    }
}

/// SIGINT and SIGTERM end the run cleanly (see `RunLoop`); a second one ends it at once.
///
/// Both are unblocked first: a parent may have started catpool with them blocked (the mask
/// is inherited), and a blocked SIGTERM would leave it running forever. Call this before
/// starting any thread, so every thread inherits the mask.
private func installSignalHandlers() {
    var mask = sigset_t()
    sigemptyset(&mask)
    sigaddset(&mask, SIGINT)
    sigaddset(&mask, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &mask, nil)
    for number in [SIGINT, SIGTERM] {
        signal(number) { number in
            if receivedSignal.exchange(number, ordering: .relaxed) != 0 {
                _exit(128 + number)
            }
        }
    }
}

func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// An exit status carried as an error (for `Result`).
struct ExitStatusError: Error {
    let status: ExitStatus
}
