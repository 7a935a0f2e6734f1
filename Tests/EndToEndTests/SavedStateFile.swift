import Foundation
import SIMBoxDetection

/// A `--state` file taken apart by its sections, to damage or forge one field and seal it
/// again with a correct checksum (as an attacker with the format could).
///
/// Mirrors the format `Pipeline.saveState` writes (version 6): the walk fails loudly when the
/// format changes, so a forgery never lands on the wrong field unnoticed.
struct SavedStateFile {
    var bytes: [UInt8]
    /// Offsets of the fields the tests forge.
    private(set) var locationLatitude: Int?
    private(set) var maxEventTime = 0
    private(set) var firstBucketNumber: Int?
    private(set) var history = 0
    private(set) var simCount = 0
    private(set) var imsiCount = 0
    private(set) var imsiSlots = 0
    private(set) var imsiSlotCount = 0
    private(set) var newestTime = 0
    private(set) var hotCount = 0
    private(set) var trackedLocation: Int?

    static let historyStride = 64
    static let countsStride = 32
    /// Offsets within a SIM's 64-byte history record.
    static let lastCellOffset = 48
    static let locationOffset = 52

    init(contentsOf url: URL) throws {
        bytes = Array(try Data(contentsOf: url))
        var walker = Walker(bytes: bytes)
        walker.skip(14)  // magic line
        guard walker.int() == 6 else { throw Unexpected(what: "state version") }
        for _ in 0..<walker.int() { walker.skipString() }
        for _ in 0..<walker.int() {
            walker.skipString()
            if walker.int() != 0 {
                walker.skipString()
                locationLatitude = locationLatitude ?? walker.offset
                walker.skip(16)
            }
        }
        walker.skip(7 * 8)  // window shape, record layouts
        maxEventTime = walker.offset
        walker.skip(16)
        for _ in 0..<walker.int() {
            firstBucketNumber = firstBucketNumber ?? walker.offset
            walker.skip(8)
            walker.skip(walker.int() * 16)  // window events
        }
        simCount = walker.int()
        history = walker.offset
        walker.skip(simCount * Self.historyStride)
        walker.skip(walker.int() * Self.countsStride)  // window counts
        imsiCount = walker.offset
        walker.skip(16)  // entries, number width
        imsiSlotCount = walker.int()
        imsiSlots = walker.offset
        walker.skip(imsiSlotCount * 4)
        walker.skip(16)
        walker.skip(walker.int() * 4)  // the MSISDN table
        walker.skip(walker.int() * 16)  // busy callers
        hotCount = walker.offset
        walker.skip(walker.int() * 8)
        newestTime = walker.offset
        walker.skip(4 * 8)
        walker.skip(walker.int() * 8)
        walker.skip(walker.int() * 16)
        walker.skip(16)
        if walker.int() > 0 {
            walker.skip(8)
            walker.skip(walker.int() * 8)
            trackedLocation = walker.offset
        }
        guard walker.offset <= bytes.count - 8 else { throw Unexpected(what: "state layout") }
    }

    struct Unexpected: Error {
        var what: String
    }

    /// Where the IMSI table's 4-byte slots are.
    var imsiSlotOffsets: [Int] { (0..<imsiSlotCount).map { imsiSlots + 4 * $0 } }

    /// A 4-byte lookup slot (0xFFFF_FFFF: empty).
    func slot(at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    func int(at offset: Int) -> Int {
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        return Int(Int64(bitPattern: value))
    }

    mutating func set(_ value: Int64, at offset: Int) {
        set(UInt64(bitPattern: value), at: offset, width: 8)
    }

    mutating func set(_ value: UInt64, at offset: Int, width: Int) {
        for index in 0..<width {
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))
        }
    }

    /// Writes the checksum of everything before it, as `StateWriter` does.
    mutating func seal() {
        var checksum = StateChecksum()
        bytes.withUnsafeBytes { checksum.update(UnsafeRawBufferPointer(rebasing: $0.dropLast(8))) }
        set(checksum.value, at: bytes.count - 8, width: 8)
    }

    func write(to url: URL) throws { try Data(bytes).write(to: url) }

    private struct Walker {
        let bytes: [UInt8]
        var offset = 0

        mutating func skip(_ count: Int) { offset += count }

        mutating func int() -> Int {
            var value: UInt64 = 0
            for index in 0..<8 {
                value |= UInt64(bytes[offset + index]) << (8 * UInt64(index))
            }
            offset += 8
            return Int(Int64(bitPattern: value))
        }

        mutating func skipString() { skip(int()) }
    }
}
