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
///
/// `run` opens the outputs (`RunLoop+Starting.swift`), reads every input through the
/// pipeline (`read`, below), and ends the run (`RunLoop+Ending.swift`). Each step reports
/// how it failed as a `RunFailure`; `ExitStatus(_:)` alone turns that into a status.
struct RunLoop {
    let options: InputOptions
    let configuration: PipelineConfiguration
    /// `--state`: continue from this file and replace it at a successful end.
    var statePath: String?
    /// `--state-reset`: a state file that cannot be continued from is set aside, not an error.
    var resetsUnusableState = false
    /// `--evidence`: where the evidence lines go (never stdout: it carries the decisions).
    var evidencePath: String?
    /// How the reader, parser and detector threads spent the run (`--stats` `threads`).
    let threadUse = ThreadUseBoard()

    /// Runs to the end of the inputs and returns how the process should exit.
    func run() -> ExitStatus {
        let started = (monotonic: monotonicSeconds(), wall: time(nil))
        let files: RunFiles
        var pipeline: Pipeline
        do {
            files = try openFiles()
            installSignalHandlers()
            pipeline = try makePipeline(stateGuard: files.stateGuard)
        } catch {
            return ExitStatus(error)
        }
        var writer = RunWriter(files: files, options: options, started: started.monotonic)
        let (failure, stateFile) = read(into: &pipeline, writer: &writer)
        let ending = end(
            &pipeline, writer: &writer, failure: failure, stateFile: stateFile, started: started)
        // The --state lock is held until here.
        withExtendedLifetime(files) {}
        return ExitStatus(ending)
    }

    // MARK: - Reading

    /// Feeds every input through `pipeline`, writing what comes out as it comes.
    ///
    /// - Returns: what stopped the reading (`nil` at the end of the inputs, on a signal, or
    ///   when stdout was closed), and the state file written at the end (`--state`), not yet
    ///   committed.
    private func read(into pipeline: inout Pipeline, writer: inout RunWriter)
        -> (RunFailure?, AtomicFileWriter?)
    {
        let detecting = configuration.detection != nil
        let reader = DecodingReader(
            inputs: options.inputs, hashes: options.stats != nil, sharesCores: detecting,
            board: threadUse)
        reader.start()
        let cpuBefore = threadCPUSeconds()
        defer {
            // The parsing's CPU: setting up (a cell table, a state file) came before.
            threadUse.setCPU(of: .parser, seconds: threadCPUSeconds() - cpuBefore)
            threadUse.setWait(of: .parser, on: .reader, reader.callerWaits)
        }
        if detecting {
            markAsBatchWork()
            lowerThreadPriority()
        }
        var inputName = "-"
        var isInInput = false
        do {
            while try waitForInput(reader, pipeline: &pipeline, writer: &writer) {
                switch reader.next() {
                case .begin(let name):
                    (inputName, isInInput) = (name, true)
                    try pipeline.feed(.begin(name: name), into: &writer.output)
                case .data(let buffer, let count):
                    try pipeline.feed(
                        .bytes(UnsafeRawBufferPointer(rebasing: buffer[..<count])),
                        into: &writer.output)
                    reader.recycle(buffer)
                    writer.progress.update(pipeline.statistics)
                case .end(let bytesIn, let format, let sha256):
                    isInInput = false
                    try pipeline.feed(
                        .end(
                            bytesIn: bytesIn, format: format, sha256: sha256, isCutShort: false),
                        into: &writer.output)
                case .corrupt(let error, let bytesIn, let format):
                    try pipeline.feed(
                        .end(
                            bytesIn: bytesIn, format: format, isCutShort: true),
                        into: &writer.output)
                    try writer.stop(&pipeline)
                    printError(Self.message(for: error, input: inputName))
                    return (.badData, nil)
                case .unreadable(let name, let reason):
                    if isInInput {
                        try pipeline.feed(
                            .end(
                                bytesIn: 0, format: nil, isCutShort: true), into: &writer.output)
                    }
                    try writer.stop(&pipeline)
                    printError("cannot read \(name): \(reason)")
                    return (.io, nil)
                case .finished:
                    let stateFile = try finish(&pipeline, output: &writer.output)
                    try writer.write(pipeline)
                    return (nil, stateFile)
                }
                try writer.write(pipeline)
            }
            return (nil, nil)  // a signal: `end` says so
        } catch let error as PipelineError {
            try? writer.stop(&pipeline)
            printError(error.message)
            return (.badData, nil)
        } catch OutputFile.OutputError.closed {
            writer.isStdoutClosed = true  // the reader of stdout has gone: a normal end
            return (nil, nil)
        } catch {
            printError("\(error)")
            return (.io, nil)
        }
    }

    /// Waits for the reader's next event; `false` when a signal asked the run to stop.
    ///
    /// When the input goes quiet (a live feed), every decision the records so far have made
    /// goes out before waiting for more.
    private func waitForInput(
        _ reader: DecodingReader, pipeline: inout Pipeline, writer: inout RunWriter
    ) throws -> Bool {
        guard receivedSignal.load(ordering: .relaxed) == 0 else { return false }
        guard !reader.waitForEvent(seconds: 0.05) else { return true }
        pipeline.flush(into: &writer.output)
        try writer.write(pipeline)
        while !reader.waitForEvent(seconds: 0.1) {
            guard receivedSignal.load(ordering: .relaxed) == 0 else { return false }
            writer.progress.update(pipeline.statistics)
        }
        return true
    }

    /// Ends the pipeline at the end of the inputs: with `--state`, saves it (the windows
    /// stay open for the next run's records; the file replaces the old one only if the run
    /// ends well), else evaluates the windows still open.
    private func finish(_ pipeline: inout Pipeline, output: inout PipelineOutput) throws
        -> AtomicFileWriter?
    {
        guard let statePath else {
            pipeline.finish(into: &output)
            return nil
        }
        let file = try AtomicFileWriter(path: statePath)
        var writer = StateWriter { bytes in try file.write(bytes) }
        pipeline.saveState(to: &writer, into: &output)
        if let failure = writer.failure { throw failure }
        return file
    }

    private static func message(for error: InputError, input: String) -> String {
        guard case .unsupportedFormat(let format, let command) = error else {
            return "\(input): \(error)"
        }
        let source = input == "-" ? "stdin" : "input \(input)"
        let file = input == "-" ? "FILE" : input
        return
            "\(source) is \(format)-compressed; decompress it first (\(command) \(file) | catpool …)"
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

func monotonicSeconds() -> Double { seconds(on: CLOCK_MONOTONIC) }

/// CPU time the calling thread has used so far, in seconds (user and system).
func threadCPUSeconds() -> Double { seconds(on: CLOCK_THREAD_CPUTIME_ID) }

private func seconds(on clock: clockid_t) -> Double {
    var time = timespec()
    clock_gettime(clock, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
