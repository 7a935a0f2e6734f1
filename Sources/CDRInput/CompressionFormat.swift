/// The container an input arrives in, recognised from its first bytes.
///
/// Detection needs at most four bytes: zstd frames (`28 B5 2F FD`) and zstd skippable
/// frames (`5? 2A 4D 18`, little-endian `0x184D2A5?`) are zstd; `1F 8B` is gzip; anything
/// else is plain text. An empty input is plain text with no lines.
public enum CompressionFormat: String, Sendable, Equatable, CustomStringConvertible {
    case zstd
    case gzip
    case plain

    /// The number of leading bytes `detect(prefix:)` needs to decide for certain.
    public static let prefixLength = 4

    /// Recognises the format from the first bytes of an input.
    ///
    /// - Parameters:
    ///   - prefix: the first bytes of the input (any length).
    ///   - isComplete: `true` when `prefix` is the whole input, so a short prefix is final.
    /// - Returns: the format, or `nil` when more bytes are needed to tell.
    public static func detect(prefix: UnsafeRawBufferPointer, isComplete: Bool)
        -> CompressionFormat?
    {
        let count = prefix.count
        if count >= 2, prefix[0] == 0x1F, prefix[1] == 0x8B { return .gzip }
        if count >= 4 {
            let magic =
                UInt32(prefix[0]) | UInt32(prefix[1]) << 8 | UInt32(prefix[2]) << 16
                | UInt32(prefix[3]) << 24
            if magic == 0xFD2F_B528 || magic & 0xFFFF_FFF0 == 0x184D_2A50 { return .zstd }
            return .plain
        }
        if isComplete { return .plain }
        // A short prefix can still grow into a magic number: wait unless it already differs.
        let zstdMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
        let couldBeZstd = (0..<count).allSatisfy { prefix[$0] == zstdMagic[$0] }
        let couldBeSkippable =
            count < 1
            || (prefix[0] & 0xF0 == 0x50 && (count < 2 || prefix[1] == 0x2A)
                && (count < 3 || prefix[2] == 0x4D))
        let couldBeGzip = count < 1 || prefix[0] == 0x1F
        return couldBeZstd || couldBeSkippable || couldBeGzip ? nil : .plain
    }

    public var description: String { rawValue }

    /// A container catpool does not read, recognised from its first bytes so that it is
    /// named rather than read as text: `(name, the command that decompresses it)`.
    ///
    /// xz `FD 37 7A 58 5A 00`, bzip2 `BZh1`…`BZh9`, lz4 frames `04 22 4D 18`, zip `PK 03 04`.
    /// `nil` for anything else, or when `prefix` is too short to tell.
    public static func unsupported(prefix: UnsafeRawBufferPointer) -> (
        name: String, command: String
    )? {
        func starts(with magic: [UInt8]) -> Bool {
            prefix.count >= magic.count && zip(prefix, magic).allSatisfy { $0 == $1 }
        }
        if starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return ("xz", "xz -dc") }
        if starts(with: [0x42, 0x5A, 0x68]), prefix.count >= 4, prefix[3] &- 0x31 < 9 {
            return ("bzip2", "bzip2 -dc")
        }
        if starts(with: [0x04, 0x22, 0x4D, 0x18]) { return ("lz4", "lz4 -dc") }
        if starts(with: [0x50, 0x4B, 0x03, 0x04]) { return ("zip", "unzip -p") }
        return nil
    }
}
