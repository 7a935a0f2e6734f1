import CDRInput
import CDRRecords

// MARK: - Rejects

extension Pipeline {
    /// Counts a rejected line by reason, describes the first few as warnings, and writes it
    /// to the rejects output when asked for.
    ///
    /// - Throws: `PipelineError.strictReject` with `isStrict`.
    mutating func reject(
        _ line: LineSplitter.Line, _ error: RecordError, into output: inout PipelineOutput
    ) throws(PipelineError) {
        let reason = error.reason
        // With --pseudonymise, what is quoted from the line is redacted everywhere (#14).
        let error = configuration.pseudonymiser?.redacting(error) ?? error
        statistics.rejectedByReason[RejectReason.allCases.firstIndex(of: reason) ?? 0] += 1
        statistics.currentInput?.rejected += 1
        if configuration.isStrict {
            throw .strictReject(input: inputName, line: line.number, error)
        }
        if describedRejects < configuration.describedRejectLimit {
            describedRejects += 1
            output.warnings.append(.rejectedLine(input: inputName, line: line.number, error))
            if describedRejects == configuration.describedRejectLimit {
                output.warnings.append(.furtherRejectsNotDescribed)
            }
        }
        guard configuration.collectsRejects else { return }
        OutputEvent.encodeReject(
            input: inputName, line: line, error, pseudonymiser: configuration.pseudonymiser,
            into: &output.rejects)
    }
}
