import CDRRecords

extension Pseudonymiser {
    /// `error` with the input text it quotes redacted (`redactingDigitRuns`), so a message
    /// about a rejected line or a header shows no raw identifier; counts and limits are kept.
    public func redacting(_ error: RecordError) -> RecordError {
        switch error {
        case .badTime(let text): return .badTime(redactingDigitRuns(text))
        case .badIdentifier(let field, let text):
            return .badIdentifier(field, redactingDigitRuns(text))
        case .badDuration(let text): return .badDuration(redactingDigitRuns(text))
        case .badCell(let text): return .badCell(redactingDigitRuns(text))
        // Listed, not defaulted: a new case that quotes input must be decided here.
        case .fieldCount, .badQuoting, .missingField, .lineTooLong, .truncatedInput: return error
        }
    }

    /// `error` with the header's columns redacted: a header-less dump read with a header
    /// shows its first record as the header.
    public func redacting(_ error: HeaderError) -> HeaderError {
        switch error {
        case .missingColumns(let names, let found):
            return .missingColumns(names, found: found.map(redactingDigitRuns))
        case .duplicateColumn(let name): return .duplicateColumn(redactingDigitRuns(name))
        case .renamedColumnMissing(let field, let column, let found):
            return .renamedColumnMissing(
                field: field, column: column, found: found.map(redactingDigitRuns))
        }
    }
}
