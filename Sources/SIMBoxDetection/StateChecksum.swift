/// A 64-bit checksum of a state file's bytes, eight at a time, fed in any pieces: it
/// catches a damaged or cut file (not an adversary).
public struct StateChecksum {
    private var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    private var carry: UInt64 = 0
    private var carried = 0
    private var count: UInt64 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        count &+= UInt64(bytes.count)
        var index = 0
        while carried > 0, index < bytes.count {
            carry |= UInt64(bytes[index]) << (8 * UInt64(carried))
            carried += 1
            index += 1
            if carried == 8 {
                mix(carry)
                carry = 0
                carried = 0
            }
        }
        while index + 8 <= bytes.count {
            mix(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
            index += 8
        }
        while index < bytes.count {
            carry |= UInt64(bytes[index]) << (8 * UInt64(carried))
            carried += 1
            index += 1
        }
    }

    public var value: UInt64 {
        var final = self
        if final.carried > 0 { final.mix(final.carry) }
        final.mix(count)
        return final.hash ^ (final.hash >> 31)
    }

    private mutating func mix(_ word: UInt64) {
        let mixed = (hash ^ word) &* 0x0000_0100_0000_01B3
        hash = (mixed << 29) | (mixed >> 35)
    }
}
