import CDRRecords

/// Reads what `StateWriter` wrote; every read checks it stays inside the bytes.
///
/// Bytes come from `source` as needed (it fills a buffer and returns how many it wrote, 0 at
/// the end), so restoring a large state never holds the file and the tables at once.
/// `verifyChecksumFirst` reads the whole input once for its checksum and starts again
/// (`rewind`), so a damaged file is refused before any count in it is believed.
public struct StateReader {
    public typealias Source = (UnsafeMutableRawBufferPointer) throws -> Int

    private var buffer: [UInt8]
    private var position = 0
    private var end = 0
    private let source: Source
    private let rewind: () throws -> Void
    private var isExhausted = false
    private var checksum = StateChecksum()

    /// - Parameters:
    ///   - source: fills a buffer from the input, returning the bytes written (0 at its end).
    ///   - rewind: makes `source` start again from the input's first byte.
    public init(source: @escaping Source, rewind: @escaping () throws -> Void) {
        buffer = [UInt8](repeating: 0, count: 1 << 20)
        self.source = source
        self.rewind = rewind
    }

    /// Reads every byte once, checks the input starts with `magic` and its trailing checksum
    /// against the rest, and starts again from the first byte: call it before reading
    /// anything.
    ///
    /// Memory stays at the reader's 1 MiB buffer, whatever the file's size. The checksum is
    /// checked again at the end of the real read (`verifyChecksum`), which catches a file
    /// changed between the two passes.
    ///
    /// - Throws: `StateError.incompatible` for a file of another kind,
    ///   `.checksumMismatch` for a damaged one, `.truncated` for one shorter than a checksum,
    ///   `.unreadable` when the source or `rewind` fails.
    /// - Complexity: O(file size).
    public mutating func verifyChecksumFirst(magic: [UInt8]) throws(StateError) {
        var sum = StateChecksum()
        var head: [UInt8] = []
        // The last 8 bytes read so far (the checksum, once the input ends) are held back.
        var held: UInt64 = 0
        var heldCount = 0
        while true {
            let got: Int
            do {
                got = try buffer.withUnsafeMutableBytes { raw in try source(raw) }
            } catch {
                throw .unreadable("\(error)")
            }
            guard got > 0 else { break }
            buffer.withUnsafeBytes { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[..<got])
                head += bytes.prefix(magic.count - head.count)
                if got >= 8 {
                    // Every held byte and all but the last 8 new ones are now known not to
                    // be the checksum.
                    withUnsafeBytes(of: held.littleEndian) {
                        sum.update(UnsafeRawBufferPointer(rebasing: $0[..<heldCount]))
                    }
                    sum.update(UnsafeRawBufferPointer(rebasing: bytes[..<(got - 8)]))
                    held = UInt64(
                        littleEndian: bytes.loadUnaligned(fromByteOffset: got - 8, as: UInt64.self))
                    heldCount = 8
                    return
                }
                for byte in bytes {
                    if heldCount == 8 {
                        withUnsafeBytes(of: UInt8(truncatingIfNeeded: held)) { sum.update($0) }
                        held >>= 8
                        heldCount -= 1
                    }
                    held |= UInt64(byte) << (8 * UInt64(heldCount))
                    heldCount += 1
                }
            }
        }
        guard head == magic else { throw .incompatible("not a catpool state file") }
        guard heldCount == 8 else { throw .truncated }
        guard held == sum.value else { throw .checksumMismatch }
        do {
            try rewind()
        } catch {
            throw .unreadable("\(error)")
        }
        position = 0
        end = 0
        isExhausted = false
        checksum = StateChecksum()
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool {
        mutating get { (try? fill(1)) == false }
    }

    /// Makes at least `count` unread bytes available; `false` when the input ends first.
    private mutating func fill(_ count: Int) throws(StateError) -> Bool {
        if end - position >= count { return true }
        guard !isExhausted else { return false }
        // Keep the unread tail, then top up from the source.
        buffer.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress, position > 0 else { return }
            base.copyMemory(from: base + position, byteCount: end - position)
        }
        end -= position
        position = 0
        if buffer.count < count { buffer += [UInt8](repeating: 0, count: count - buffer.count) }
        while end - position < count {
            let got: Int
            do {
                got = try buffer.withUnsafeMutableBytes { raw in
                    try source(UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
                }
            } catch {
                throw .unreadable("\(error)")
            }
            if got == 0 {
                isExhausted = true
                return false
            }
            end += got
        }
        return true
    }

    /// Takes `count` bytes from the front, feeding the checksum.
    private mutating func take(_ count: Int, into destination: UnsafeMutableRawPointer?)
        throws(StateError)
    {
        var left = count
        var written = 0
        while left > 0 {
            guard try fill(1) else { throw .truncated }
            let piece = min(left, end - position)
            buffer.withUnsafeBytes { raw in
                let slice = UnsafeRawBufferPointer(rebasing: raw[position..<(position + piece)])
                checksum.update(slice)
                if let destination, let start = slice.baseAddress {
                    (destination + written).copyMemory(from: start, byteCount: piece)
                }
            }
            position += piece
            written += piece
            left -= piece
        }
    }

    public mutating func read() throws(StateError) -> UInt64 {
        var value: UInt64 = 0
        try withUnsafeMutableBytes(of: &value) { raw throws(StateError) in
            try take(8, into: raw.baseAddress)
        }
        return UInt64(littleEndian: value)
    }

    public mutating func read() throws(StateError) -> Int64 {
        Int64(bitPattern: try read() as UInt64)
    }

    public mutating func read() throws(StateError) -> Int {
        Int(try read() as Int64)
    }

    public mutating func read() throws(StateError) -> Int32 {
        let value = try read() as Int64
        guard let narrow = Int32(exactly: value) else { throw .malformed("a 32-bit value") }
        return narrow
    }

    public mutating func read() throws(StateError) -> Double {
        Double(bitPattern: try read() as UInt64)
    }

    public mutating func read() throws(StateError) -> Bool {
        try read() as UInt64 != 0
    }

    public mutating func read() throws(StateError) -> String {
        let count = try readCount(limit: 1 << 20)
        return String(decoding: try takeBytes(count), as: UTF8.self)
    }

    private mutating func takeBytes(_ count: Int) throws(StateError) -> [UInt8] {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count), alignment: 1)
        defer { raw.deallocate() }
        try take(count, into: raw)
        return Array(UnsafeRawBufferPointer(start: raw, count: count))
    }

    /// Reads `count` bytes and checks they are `expected` (a file's magic line).
    public mutating func expect(_ expected: [UInt8]) throws(StateError) -> Bool {
        try takeBytes(expected.count) == expected
    }

    /// A count of elements, at most `limit`.
    public mutating func readCount(limit: Int) throws(StateError) -> Int {
        let count = try read() as Int
        guard count >= 0, count <= limit else { throw .malformed("a length of \(count)") }
        return count
    }

    /// A count of elements of `elementBytes` each, at most 16 GiB of them.
    public mutating func readCount(elementBytes: Int) throws(StateError) -> Int {
        try readCount(limit: (1 << 34) / max(1, elementBytes))
    }

    /// Reads at most `limit` values of a plain type written by `writeRaw` into fresh memory
    /// the caller owns.
    ///
    /// - Throws: `StateError.tooLarge` when the file holds more than `limit`, before any
    ///   memory is taken for them (a forged count cannot make the reader allocate more).
    public mutating func readRawAllocating<T>(of type: T.Type = T.self, limit: Int)
        throws(StateError) -> UnsafeMutableBufferPointer<T>
    {
        let count = try readCount(elementBytes: MemoryLayout<T>.stride)
        guard count <= limit else { throw .tooLarge(count: count, capacity: limit) }
        let base = UnsafeMutablePointer<T>.allocate(capacity: max(1, count))
        do {
            try take(count * MemoryLayout<T>.stride, into: UnsafeMutableRawPointer(base))
        } catch {
            base.deallocate()
            throw error
        }
        return UnsafeMutableBufferPointer(start: base, count: count)
    }

    /// Reads `count` values of a plain type written by `writeRaw` into `base`, which has room.
    public mutating func readRaw<T>(into base: UnsafeMutablePointer<T>, capacity: Int)
        throws(StateError) -> Int
    {
        let count = try readCount(elementBytes: MemoryLayout<T>.stride)
        guard count <= capacity else { throw .tooLarge(count: count, capacity: capacity) }
        try take(count * MemoryLayout<T>.stride, into: UnsafeMutableRawPointer(base))
        return count
    }

    /// Reads the trailing checksum and checks it against everything read before it, and
    /// that nothing follows.
    public mutating func verifyChecksum() throws(StateError) {
        let expected = checksum.value
        guard try read() as UInt64 == expected else { throw .checksumMismatch }
        guard isAtEnd else { throw .malformed("bytes after the checksum") }
    }
}
