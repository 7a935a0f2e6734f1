import CDRPipeline
import Glibc
import SIMBoxDetection

// MARK: - Starting

extension RunLoop {
    /// Checks every output before any input is read, takes the `--state` lock, and opens
    /// the outputs written as the run goes.
    ///
    /// - Throws: `RunFailure.usage` when stdin is a terminal; what `Preflight` and
    ///   `StateFileGuard` refuse; `.io` when an output cannot be created.
    func openFiles() throws(RunFailure) -> RunFiles {
        if options.inputs.contains("-"), isatty(0) == 1 {
            printError("reading CDRs from a terminal; pipe a dump in or name files (see --help)")
            throw .usage
        }
        let outputs = [
            ("--rejects", options.rejects), ("--stats", options.stats),
            ("--metrics-file", options.metricsFile), ("--state", statePath),
            ("--evidence", evidencePath),
        ].compactMap { flag, path in path.map { (flag: flag, path: $0) } }
        // The key file counts as an input: no output may overwrite it.
        let protected = options.inputs + (options.pseudonymise.map { [$0] } ?? [])
        if let refused = Preflight.checkOutputs(outputs, inputs: protected) { throw refused }
        let stateGuard = try statePath.map { path throws(RunFailure) in
            try StateFileGuard(statePath: path)
        }
        if let path = options.metricsFile { StateFileGuard.removeStaleTemporaries(of: path) }
        do {
            return RunFiles(
                stateGuard: stateGuard,
                rejects: try options.rejects.map { path throws(OutputFile.OutputError) in
                    try OutputFile(creating: path)
                },
                evidence: try evidencePath.map { path throws(OutputFile.OutputError) in
                    try OutputFile(creating: path, capacity: 1 << 20)
                })
        } catch {
            printError("\(error)")
            throw .io
        }
    }

    /// The pipeline, continuing `--state` when its file exists.
    func makePipeline(stateGuard: StateFileGuard?) throws(RunFailure) -> Pipeline {
        var stateInput: InputFile?
        if let statePath {
            do {
                stateInput = try InputFile(path: statePath)
            } catch {
                printError("cannot read state file \(statePath): \(error.reason)")
                throw .io
            }
        }
        do {
            let reader = stateInput.map { file in
                StateReader(
                    source: { buffer in try file.read(into: buffer) },
                    rewind: { try file.rewind() })
            }
            return try Pipeline(
                configuration: configuration, continuing: reader,
                runningDetection: { DetectorThread($0, board: threadUse) })
        } catch let error as StateError {
            guard resetsUnusableState, let statePath else {
                printError(
                    "cannot continue from state file \(statePath ?? "-"): \(error.message) "
                        + "(--state-reset starts afresh and replaces it at the end)")
                throw .badData
            }
            guard let setAside = stateGuard?.setAside() else {
                throw .io
            }
            printError(
                "warning: state file \(statePath) set aside as \(setAside) (\(error.message)): "
                    + "starting afresh")
            do {
                return try Pipeline(
                    configuration: configuration,
                    runningDetection: { DetectorThread($0, board: threadUse) })
            } catch {
                printError("\(error)")
                throw .usage
            }
        } catch {
            printError("\(error)")
            throw .usage
        }
    }
}
