import CDRRecords

/// Writes a run's saved state (`--state`): little-endian integers, doubles by their bits,
/// length-prefixed strings and arrays, and plain records as their bytes.
public struct StateWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }
    public mutating func write(_ value: Int) { write(Int64(value)) }
    public mutating func write(_ value: Int32) { write(Int64(value)) }
    public mutating func write(_ value: Double) { write(value.bitPattern) }
    public mutating func write(_ value: Bool) { write(value ? 1 : 0 as UInt64) }

    public mutating func write(_ text: String) {
        let utf8 = Array(text.utf8)
        write(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    /// Appends `count` values of a plain type (no references) as their bytes.
    public mutating func writeRaw<T>(_ base: UnsafePointer<T>, count: Int) {
        write(count)
        bytes.append(
            contentsOf: UnsafeRawBufferPointer(
                start: base, count: count * MemoryLayout<T>.stride))
    }
}

/// A 64-bit checksum of a state file's bytes, eight at a time: it catches a damaged or cut
/// file (not an adversary).
public enum StateChecksum {
    public static func of(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(bytes.count)
        bytes.withUnsafeBytes { raw in
            var index = 0
            while index + 8 <= raw.count {
                let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                hash = ((hash ^ word) &* 0x0000_0100_0000_01B3).rotatedLeft(by: 29)
                index += 8
            }
            while index < raw.count {
                hash = (hash ^ UInt64(raw[index])) &* 0x0000_0100_0000_01B3
                index += 1
            }
        }
        return hash ^ (hash >> 31)
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(by count: UInt64) -> UInt64 {
        (self << count) | (self >> (64 - count))
    }
}

/// Reads what `StateWriter` wrote; every read checks it stays inside the bytes.
public struct StateReader {
    private let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset == bytes.count }

    public mutating func read() throws(StateError) -> UInt64 {
        guard offset + 8 <= bytes.count else { throw .truncated }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        offset += 8
        return value
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
        let count = try readCount(elementBytes: 1)
        defer { offset += count }
        return String(decoding: bytes[offset..<(offset + count)], as: UTF8.self)
    }

    /// A count of elements that must fit in the bytes left.
    public mutating func readCount(elementBytes: Int) throws(StateError) -> Int {
        let count = try read() as Int
        guard count >= 0, count <= (bytes.count - offset) / max(1, elementBytes) else {
            throw .malformed("a length beyond the end")
        }
        return count
    }

    /// Reads values of a plain type written by `writeRaw` into fresh memory the caller owns.
    public mutating func readRawAllocating<T>(of type: T.Type = T.self) throws(StateError)
        -> UnsafeMutableBufferPointer<T>
    {
        let count = try readCount(elementBytes: MemoryLayout<T>.stride)
        let base = UnsafeMutablePointer<T>.allocate(capacity: max(1, count))
        let byteCount = count * MemoryLayout<T>.stride
        bytes.withUnsafeBytes { source in
            guard let start = source.baseAddress, byteCount > 0 else { return }
            UnsafeMutableRawPointer(base).copyMemory(from: start + offset, byteCount: byteCount)
        }
        offset += byteCount
        return UnsafeMutableBufferPointer(start: base, count: count)
    }

    /// Reads `count` values of a plain type written by `writeRaw` into `base`, which has room.
    public mutating func readRaw<T>(into base: UnsafeMutablePointer<T>, capacity: Int)
        throws(StateError) -> Int
    {
        let count = try readCount(elementBytes: MemoryLayout<T>.stride)
        guard count <= capacity else { throw .tooLarge(count: count, capacity: capacity) }
        let byteCount = count * MemoryLayout<T>.stride
        bytes.withUnsafeBytes { source in
            guard let start = source.baseAddress, byteCount > 0 else { return }
            UnsafeMutableRawPointer(base).copyMemory(from: start + offset, byteCount: byteCount)
        }
        offset += byteCount
        return count
    }
}

/// A state file that cannot be used.
public enum StateError: Error, Equatable, CustomStringConvertible {
    case truncated
    case malformed(String)
    /// Saved by another version of catpool, or with other windows.
    case incompatible(String)
    case checksumMismatch
    /// More SIMs than this run's `--max-state-mb` holds.
    case tooLarge(count: Int, capacity: Int)

    public var description: String {
        switch self {
        case .truncated: return "the file ends early"
        case .malformed(let what): return "malformed: \(what)"
        case .incompatible(let why): return "incompatible: \(why)"
        case .checksumMismatch: return "checksum mismatch (the file is damaged)"
        case .tooLarge(let count, let capacity):
            return
                "it holds \(count) entries, more than this run's cap allows (\(capacity)); raise --max-state-mb"
        }
    }
}
