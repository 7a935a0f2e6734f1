import SIMBoxDetection
import Testing

/// The state reader's first pass: the whole file's checksum before any of it is believed,
/// whatever pieces the source hands over (#13 row 1).
struct StateCodingTests {
    static let magic = Array("catpool state\n".utf8)

    /// A small file as `StateWriter` writes it: the magic line, some values, a checksum.
    static func file(values: [Int64]) -> [UInt8] {
        var bytes: [UInt8] = []
        var writer = StateWriter { bytes.append(contentsOf: $0) }
        writer.writeBytes(magic)
        for value in values { writer.write(value) }
        writer.finish()
        return bytes
    }

    /// A reader over `bytes` handing them over `piece` at a time at most.
    static func reader(_ bytes: [UInt8], piece: Int) -> StateReader {
        final class Position: @unchecked Sendable { var value = 0 }
        let position = Position()
        return StateReader(
            source: { buffer in
                let count = min(piece, buffer.count, bytes.count - position.value)
                for index in 0..<count { buffer[index] = bytes[position.value + index] }
                position.value += count
                return count
            },
            rewind: { position.value = 0 })
    }

    @Test(arguments: [1, 2, 3, 7, 8, 9, 64, 1 << 20])
    func acceptsAnIntactFileInAnyPieces(piece: Int) throws {
        let values: [Int64] = [3, -1, .max, .min, 0, 42]
        var reader = Self.reader(Self.file(values: values), piece: piece)
        try reader.verifyChecksumFirst(magic: Self.magic)
        #expect(try reader.expect(Self.magic))
        for value in values { #expect(try reader.read() as Int64 == value) }
        try reader.verifyChecksum()
    }

    @Test(arguments: [1, 3, 8, 9, 1 << 20])
    func refusesAnyFlippedByteBeforeReadingIt(piece: Int) {
        let intact = Self.file(values: [1, 2, 3])
        for index in Self.magic.count..<intact.count {
            var damaged = intact
            damaged[index] ^= 0x80
            var reader = Self.reader(damaged, piece: piece)
            #expect(throws: StateError.checksumMismatch) {
                try reader.verifyChecksumFirst(magic: Self.magic)
            }
        }
    }

    @Test func refusesAnotherKindOfFileOrOneCutShort() {
        var foreign = Self.reader(Array("not a state file at all".utf8), piece: 5)
        #expect(throws: StateError.incompatible("not a catpool state file")) {
            try foreign.verifyChecksumFirst(magic: Self.magic)
        }
        var short = Self.reader(Array(Self.magic.prefix(5)), piece: 5)
        #expect(throws: StateError.incompatible("not a catpool state file")) {
            try short.verifyChecksumFirst(magic: Self.magic)
        }
        var cut = Self.reader(Array(Self.file(values: [1, 2]).dropLast(3)), piece: 2)
        #expect(throws: StateError.checksumMismatch) {
            try cut.verifyChecksumFirst(magic: Self.magic)
        }
    }
}
