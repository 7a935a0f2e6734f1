import CDRInput
import CDRRecords

/// One step of the inputs, as `Pipeline.feed(_:into:)` takes them, in order.
public enum PipelineInput {
    /// An input (a file, or stdin) begins: line numbers restart and a header is expected
    /// (unless the configuration gives the columns).
    case begin(name: String)
    /// Decoded bytes of the current input, in any chunking: every complete line is handled.
    case bytes(UnsafeRawBufferPointer)
    /// The current input ends: it had `bytesIn` compressed bytes in `format`; `sha256` is
    /// the digest of its bytes as read, when it was read to its end. With `isCutShort`,
    /// decoding stopped at a fault: an unfinished last line is rejected as
    /// `truncated_input` rather than read.
    case end(bytesIn: Int, format: CompressionFormat?, sha256: String? = nil, isCutShort: Bool)
}

/// What the pipeline produced from a chunk.
///
/// Bytes for stdout, the rejects file and the evidence file, and warnings for the caller to
/// word. The caller writes and clears it.
public struct PipelineOutput {
    /// JSON lines for stdout.
    public var events: [UInt8] = []
    /// JSON lines for the rejects output (`OutputEvent.encodeReject`).
    public var rejects: [UInt8] = []
    /// JSON lines for the evidence output (`EvidenceStage`).
    public var evidence: [UInt8] = []
    /// What the run goes on after, in the order noticed.
    public var warnings: [PipelineWarning] = []

    public init() {}

    public mutating func removeAll() {
        events.removeAll(keepingCapacity: true)
        rejects.removeAll(keepingCapacity: true)
        evidence.removeAll(keepingCapacity: true)
        warnings.removeAll(keepingCapacity: true)
    }
}

/// Something the pipeline noticed that the run goes on after; the executable words it.
public enum PipelineWarning: Equatable {
    /// A line was rejected: one of the first `describedRejectLimit` of the run. The error is
    /// already redacted when the configuration pseudonymises.
    case rejectedLine(input: String, line: Int, RecordError)
    /// `describedRejectLimit` rejects have been described: later ones are only counted.
    case furtherRejectsNotDescribed
    /// The detector's state reached its cap of `limitBytes`: the least recently active SIMs
    /// are evicted from now on (once per run).
    case evictingSIMs(limitBytes: Int)
    /// The window's share of the cap is full of calls: the busiest SIMs' calls are dropped
    /// and counted as shed (once per run).
    case sheddingCalls(limitBytes: Int)
    /// The cap is full of SIMs or cells all live in the window: records of new ones are
    /// dropped and counted as shed (once per run).
    case sheddingRecords(limitBytes: Int)
}

/// A fault that stops the run: the input cannot be read as CDRs.
public enum PipelineError: Error, Equatable, CustomStringConvertible {
    /// The header line of an input lacks a required column or repeats one.
    case unusableHeader(input: String, line: Int, HeaderError)
    /// The configuration is strict (`isStrict`) and a line was rejected.
    case strictReject(input: String, line: Int, RecordError)

    public var description: String {
        switch self {
        case .unusableHeader(let input, let line, let error):
            return "\(input):\(line): \(error)"
        case .strictReject(let input, let line, let error):
            return "\(input):\(line): \(error.reason.rawValue): \(error)"
        }
    }
}
