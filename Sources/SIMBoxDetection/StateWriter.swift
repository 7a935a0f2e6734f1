/// Writes a run's saved state (`--state`): little-endian integers, doubles by their bits,
/// length-prefixed strings and arrays, and plain records as their bytes.
///
/// Bytes go to `sink` in chunks of about 1 MiB as they are written (the library does no
/// I/O: the caller's sink does), so saving a city's 150 MB of state costs no second copy of
/// it in memory; a running checksum covers every byte.
public struct StateWriter {
    public typealias Sink = (UnsafeRawBufferPointer) throws -> Void

    private var buffer: [UInt8] = []
    private let sink: Sink
    private var checksum = StateChecksum()
    /// The first error the sink threw; later writes are dropped.
    public private(set) var failure: (any Error)?

    public init(sink: @escaping Sink) {
        self.sink = sink
        buffer.reserveCapacity(Self.chunkBytes)
    }

    private static let chunkBytes = 1 << 20

    public mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { append($0) }
    }

    public mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }
    public mutating func write(_ value: Int) { write(Int64(value)) }
    public mutating func write(_ value: Int32) { write(Int64(value)) }
    public mutating func write(_ value: Double) { write(value.bitPattern) }
    public mutating func write(_ value: Bool) { write(value ? 1 : 0 as UInt64) }

    public mutating func write(_ text: String) {
        let utf8 = Array(text.utf8)
        write(utf8.count)
        utf8.withUnsafeBytes { append($0) }
    }

    /// Appends `count` values of a plain type (no references) as their bytes, each padded to
    /// its stride with zeros.
    ///
    /// Memory holds whatever was there before in a struct's padding; copying each value's
    /// `size` bytes into a zeroed staging buffer keeps it out of the file, so identical runs
    /// write identical bytes (#13 row 14). The types saved this way have their padding at
    /// the end only (their fields are laid out in order, largest first).
    ///
    /// - Parameter normalise: applied to each value's copy before it is written (fields the
    ///   reader computes again, written as zeros so the file does not depend on how the
    ///   state was reached); the values in memory are left alone.
    public mutating func writeRaw<T>(
        _ base: UnsafePointer<T>, count: Int, normalising normalise: ((inout T) -> Void)? = nil
    ) {
        write(count)
        let size = MemoryLayout<T>.size
        let stride = MemoryLayout<T>.stride
        guard size != stride || normalise != nil else {
            append(UnsafeRawBufferPointer(start: base, count: count * stride))
            return
        }
        let perChunk = max(1, Self.chunkBytes / stride)
        let staging = UnsafeMutableRawBufferPointer.allocate(
            byteCount: perChunk * stride, alignment: MemoryLayout<T>.alignment)
        defer { staging.deallocate() }
        staging.initializeMemory(as: UInt8.self, repeating: 0)
        guard let start = staging.baseAddress else { return }
        var done = 0
        while done < count {
            let piece = min(perChunk, count - done)
            for index in 0..<piece {
                (start + index * stride).copyMemory(from: base + done + index, byteCount: size)
                if let normalise {
                    (start + index * stride).withMemoryRebound(to: T.self, capacity: 1) {
                        normalise(&$0.pointee)
                    }
                }
            }
            append(UnsafeRawBufferPointer(rebasing: staging[..<(piece * stride)]))
            done += piece
        }
    }

    /// Appends bytes as they are (a file's magic line).
    public mutating func writeBytes(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// Appends the checksum of everything before it and hands the last bytes to the sink.
    public mutating func finish() {
        write(checksum.value)
        flush()
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        checksum.update(bytes)
        guard bytes.count >= Self.chunkBytes else {
            buffer.append(contentsOf: bytes)
            if buffer.count >= Self.chunkBytes { flush() }
            return
        }
        flush()
        deliver(bytes)  // a large raw table goes straight through
    }

    private mutating func flush() {
        guard !buffer.isEmpty else { return }
        let chunk = buffer
        chunk.withUnsafeBytes { deliver($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private mutating func deliver(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        do { try sink(bytes) } catch { failure = error }
    }
}
