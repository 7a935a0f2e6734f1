/// A state file that cannot be used.
public enum StateError: Error, Equatable, CustomStringConvertible {
    case truncated
    case malformed(String)
    /// Saved by another version of catpool, or with other windows.
    case incompatible(String)
    case checksumMismatch
    /// The file could not be read.
    case unreadable(String)
    /// More entries than this run's cap (`StateLimits`) holds.
    case tooLarge(count: Int, capacity: Int)

    public var description: String {
        switch self {
        case .truncated: return "the file ends early"
        case .malformed(let what): return "malformed: \(what)"
        case .incompatible(let why): return "incompatible: \(why)"
        case .checksumMismatch: return "checksum mismatch (the file is damaged)"
        case .unreadable(let why): return "cannot be read: \(why)"
        case .tooLarge(let count, let capacity):
            return "it holds \(count) entries, more than this run's cap allows (\(capacity))"
        }
    }
}
