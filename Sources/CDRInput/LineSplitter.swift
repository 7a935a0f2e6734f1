import Glibc

/// Splits decoded bytes into lines, across chunk boundaries, without copying whole lines.
///
/// Edge semantics:
/// - A line ends at `\n`; a `\r` right before it is removed too, so `\r\n` files give the
///   same lines as `\n` files. A lone `\r` elsewhere stays part of the line.
/// - Bytes after the last `\n` form a final line at `finish`, unless they are empty.
/// - Lines are numbered from 1 in physical order, empty lines included, so numbers match
///   what `sed -n Np` shows.
/// - A line longer than `maxLineBytes` (not counting its line end) is not returned whole:
///   it comes back once, at its end, with ``Line/isOverlong`` set, its first
///   ``retainedOverlongBytes`` bytes, and its full length; the splitter resynchronises at
///   the next `\n`. Memory stays bounded by `maxLineBytes` whatever the input.
///
/// Lines that lie wholly inside a chunk are handed out in place; only a line that straddles
/// two chunks is copied, into a carry buffer that is reused.
public struct LineSplitter {
    /// One line, valid only during the callback that receives it.
    public struct Line {
        /// 1-based physical line number within the current input.
        public var number: Int
        /// The line without its line end; for an overlong line, its first bytes.
        public var bytes: UnsafeRawBufferPointer
        /// The full length of the line in bytes, without its line end.
        public var length: Int
        /// `true` when the line exceeded `maxLineBytes` and `bytes` holds only its start.
        public var isOverlong: Bool

        @usableFromInline
        init(number: Int, bytes: UnsafeRawBufferPointer, length: Int, isOverlong: Bool) {
            self.number = number
            self.bytes = bytes
            self.length = length
            self.isOverlong = isOverlong
        }
    }

    /// How many leading bytes of an overlong line are kept for reporting it.
    public static let retainedOverlongBytes = 1024

    /// The longest line returned whole, in bytes, not counting the line end.
    public let maxLineBytes: Int
    /// Lines returned so far (the number of the last line).
    public var lineCount: Int { storedLineCount }
    // Internal and `@usableFromInline`, not private: `feed` is inlined into the pipeline so
    // that its per-line callback is a direct call, not a closure's (22 instructions a line).
    // Only this type's methods touch them.
    @usableFromInline var storedLineCount = 0
    @usableFromInline var carry: [UInt8] = []
    /// Length of the straddling line so far, which may exceed what `carry` keeps.
    @usableFromInline var carryLength = 0
    @usableFromInline var isCarrying = false
    @usableFromInline var lastCarryByte: UInt8 = 0

    /// Creates a splitter.
    ///
    /// - Parameter maxLineBytes: the longest line returned whole; must be positive.
    public init(maxLineBytes: Int = 64 * 1024) {
        precondition(maxLineBytes > 0, "maxLineBytes must be positive")
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes received that do not yet end in a line end.
    public var pendingByteCount: Int { carryLength }

    /// Starts numbering again for a new input; any pending partial line is dropped.
    public mutating func reset() {
        storedLineCount = 0
        carry.removeAll(keepingCapacity: true)
        carryLength = 0
        isCarrying = false
    }

    /// Hands every complete line in `chunk` to `body`, keeping an unfinished tail.
    ///
    /// - Complexity: O(`chunk.count`), with `memchr` finding line ends.
    @inlinable
    public mutating func feed(
        _ chunk: UnsafeRawBufferPointer, _ body: (Line) throws -> Void
    ) rethrows {
        guard let base = chunk.baseAddress, !chunk.isEmpty else { return }
        let end = chunk.count
        var start = 0
        if isCarrying {
            guard let newline = memchr(base, 0x0A, end) else {
                appendToCarry(UnsafeRawBufferPointer(start: base, count: end))
                return
            }
            let length = base.distance(to: UnsafeRawPointer(newline))
            appendToCarry(UnsafeRawBufferPointer(start: base, count: length))
            try emitCarry(body)
            start = length + 1
        }
        while start < end {
            let lineStart = base + start
            guard let newline = memchr(lineStart, 0x0A, end - start) else {
                appendToCarry(UnsafeRawBufferPointer(start: lineStart, count: end - start))
                return
            }
            let length = lineStart.distance(to: UnsafeRawPointer(newline))
            storedLineCount += 1
            try body(
                Self.makeLine(
                    number: storedLineCount, start: lineStart, length: length,
                    maxLineBytes: maxLineBytes)
            )
            start += length + 1
        }
    }

    /// Hands the final line to `body` when the input did not end with `\n`.
    public mutating func finish(_ body: (Line) throws -> Void) rethrows {
        if isCarrying, carryLength > 0 { try emitCarry(body) }
        carry.removeAll(keepingCapacity: true)
        carryLength = 0
        isCarrying = false
    }

    // MARK: - Carrying a line across chunks

    @inlinable
    static func makeLine(
        number: Int, start: UnsafeRawPointer, length: Int, maxLineBytes: Int
    ) -> Line {
        var contentLength = length
        if contentLength > 0, start.load(fromByteOffset: contentLength - 1, as: UInt8.self) == 0x0D
        {
            contentLength -= 1
        }
        if contentLength > maxLineBytes {
            let kept = min(contentLength, retainedOverlongBytes)
            return Line(
                number: number, bytes: UnsafeRawBufferPointer(start: start, count: kept),
                length: contentLength, isOverlong: true)
        }
        return Line(
            number: number, bytes: UnsafeRawBufferPointer(start: start, count: contentLength),
            length: contentLength, isOverlong: false)
    }

    @usableFromInline
    mutating func appendToCarry(_ bytes: UnsafeRawBufferPointer) {
        isCarrying = true
        carryLength += bytes.count
        if let last = bytes.last { lastCarryByte = last }
        // Keep one byte past the limit so a trailing `\r` can still be recognised; past
        // that, keep only what a report of the overlong line needs.
        let room = max(maxLineBytes + 1, Self.retainedOverlongBytes) - carry.count
        if room > 0 { carry.append(contentsOf: bytes.prefix(room)) }
    }

    @usableFromInline
    mutating func emitCarry(_ body: (Line) throws -> Void) rethrows {
        storedLineCount += 1
        let number = storedLineCount
        let length = carryLength
        let limit = maxLineBytes
        let endsWithCarriageReturn = lastCarryByte == 0x0D
        try carry.withUnsafeBytes { kept in
            if length == kept.count, let start = kept.baseAddress {
                try body(
                    Self.makeLine(number: number, start: start, length: length, maxLineBytes: limit)
                )
            } else {
                // Only a line longer than the limit is cut short in the carry.
                let keptCount = min(kept.count, Self.retainedOverlongBytes)
                try body(
                    Line(
                        number: number, bytes: UnsafeRawBufferPointer(rebasing: kept[..<keptCount]),
                        length: endsWithCarriageReturn ? length - 1 : length, isOverlong: true))
            }
        }
        carry.removeAll(keepingCapacity: true)
        carryLength = 0
        isCarrying = false
    }
}
