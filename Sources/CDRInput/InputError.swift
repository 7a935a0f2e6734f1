/// A fault in a compressed stream: the input cannot be read past this point.
///
/// Everything decoded before the fault is still valid and is handed on before the
/// error surfaces; the executable reports the error with the input's name and exits 65.
public enum InputError: Error, Equatable, CustomStringConvertible {
    /// The decoder rejected the bytes at `offset` (0-based, counted in compressed bytes
    /// of this input); `reason` is libzstd's or zlib's own message.
    case corrupt(format: CompressionFormat, offset: Int, reason: String)
    /// The input ended inside a frame (zstd) or member (gzip) after `offset` bytes.
    case truncated(format: CompressionFormat, offset: Int)
    /// The decompression library could not allocate its context.
    case decoderUnavailable(format: CompressionFormat, reason: String)
    /// The input is in a container catpool does not read (`name`, e.g. `xz`), which
    /// `command` decompresses; nothing of it was read as text.
    case unsupportedFormat(name: String, command: String)

    public var description: String {
        switch self {
        case .corrupt(let format, let offset, let reason):
            return "corrupt \(format) data at byte \(offset): \(reason)"
        case .truncated(let format, let offset):
            return
                "truncated \(format) input: it ends inside a \(format == .zstd ? "frame" : "member") at byte \(offset)"
        case .decoderUnavailable(let format, let reason):
            return "cannot start the \(format) decoder: \(reason)"
        case .unsupportedFormat(let name, let command):
            return "\(name)-compressed; decompress it first (\(command) FILE | catpool …)"
        }
    }
}
