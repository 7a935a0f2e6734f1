import CDRPipeline
import Glibc

/// The files a run writes besides its state, opened before any input is read.
struct RunFiles {
    /// Holds the `--state` lock for as long as the files are kept.
    let stateGuard: StateFileGuard?
    let standardOutput = OutputFile(descriptor: 1, path: "stdout", capacity: 64 * 1024)
    /// `--rejects`.
    let rejects: OutputFile?
    /// `--evidence`.
    let evidence: OutputFile?
}

/// Writes what the pipeline puts out, as it comes: events to stdout, rejects and evidence
/// to their files, warnings to stderr in words, and the progress line.
struct RunWriter {
    let files: RunFiles
    /// What the pipeline has put out and not yet been written.
    var output = PipelineOutput()
    var progress: ProgressLine
    /// The reader of stdout has gone (`catpool … | head`): a quiet, successful end.
    var isStdoutClosed = false
    private let isQuiet: Bool
    /// On a terminal, a decision must not land on the end of the progress line.
    private let stdoutIsTerminal = isatty(1) == 1
    private var hasWarnedOfNaiveTimes: Bool

    init(files: RunFiles, options: InputOptions, started: Double) {
        self.files = files
        isQuiet = options.quiet
        hasWarnedOfNaiveTimes = options.timezone != nil
        progress = ProgressLine(
            isShown: options.progress ?? (isatty(2) == 1 && !options.quiet), started: started)
    }

    /// Writes and clears `output`.
    mutating func write(_ pipeline: Pipeline) throws(OutputFile.OutputError) {
        if !output.warnings.isEmpty || (stdoutIsTerminal && !output.events.isEmpty) {
            progress.clear()
        }
        if !hasWarnedOfNaiveTimes, pipeline.hasReadNaiveTime {
            hasWarnedOfNaiveTimes = true
            progress.clear()
            printError(RunWarnings.naiveTimes)
        }
        for warning in output.warnings where !isQuiet { printError(warning.message) }
        if !output.events.isEmpty {
            try files.standardOutput.write(output.events)
            try files.standardOutput.flush()
        }
        if let rejects = files.rejects, !output.rejects.isEmpty {
            try rejects.write(output.rejects)
        }
        if let evidence = files.evidence, !output.evidence.isEmpty {
            try evidence.write(output.evidence)
        }
        output.removeAll()
    }

    /// Writes every decision made so far, before the run stops early.
    mutating func stop(_ pipeline: inout Pipeline) throws(OutputFile.OutputError) {
        pipeline.flush(into: &output)
        defer { progress.clear() }
        try write(pipeline)
    }
}
