import Glibc

/// Gives each distinct cell token a dense integer id, in order of first appearance.
///
/// Operators name cells with digits and separators (`460-00-4521-12345`). Such a token of
/// up to 22 bytes packs into 93 bits, four per byte and its length, and the id takes the
/// other 32 of a 16-byte slot: one probe touches one slot, where hashing the string and comparing it with
/// a stored copy touched four places. With tens of thousands of cells that is the
/// difference between one cache miss a record and four (a dense city has 60,000 cells).
/// Other tokens go to a byte-hashed table with the tokens in an arena. Interning a cell
/// seen before allocates nothing. Ids are assigned in input order, so the same input gives
/// the same ids in every run.
///
/// - Complexity: `intern` is O(token length) expected; the tables double at half load.
public final class CellInterner {
    /// The number of distinct cells seen.
    @exclusivity(unchecked) public private(set) var count = 0

    // The storage is touched only inside this class's own methods, which never call out
    // while an access is open, so the runtime's exclusivity checks (about 170 instructions a
    // record, measured with callgrind) buy nothing here.

    /// Packed tokens: a power of two of slots, empty when `high == 0` (a packed token's
    /// id + 1 sits in its top 32 bits).
    @exclusivity(unchecked) private var packedSlots: UnsafeMutableBufferPointer<PackedSlot>
    @exclusivity(unchecked) private var packedCount = 0
    /// Other tokens: slot → id + 1 (0 = empty); its count is a power of two.
    @exclusivity(unchecked) private var slots: UnsafeMutableBufferPointer<UInt32>
    @exclusivity(unchecked) private var slotsUsed = 0
    /// id → hash of its token (0 for packed ones), to skip most byte comparisons while probing.
    @exclusivity(unchecked) private var hashes: [UInt64] = []
    /// id → start of its token in `arena`; `offsets[id + 1]` is the end.
    @exclusivity(unchecked) private var offsets: [Int] = [0]
    @exclusivity(unchecked) private var arena: [UInt8] = []

    /// The most cells interned; later new tokens get `CellID.overflow`.
    public let limit: Int

    public init(expectedCount: Int = 4096, limit: Int = Int(UInt32.max - 1)) {
        self.limit = limit
        var capacity = 16
        while capacity < expectedCount * 2 { capacity *= 2 }
        packedSlots = .allocate(capacity: capacity)
        packedSlots.initialize(repeating: PackedSlot(low: 0, high: 0))
        slots = .allocate(capacity: 16)
        slots.initialize(repeating: 0)
        hashes.reserveCapacity(expectedCount)
        offsets.reserveCapacity(expectedCount + 1)
    }

    deinit {
        packedSlots.deallocate()
        slots.deallocate()
    }

    /// Returns the id of `token`, assigning the next id when it is new, or `.overflow` when it
    /// is new and `limit` cells are interned already.
    @inline(__always)
    public func intern(_ token: UnsafeRawBufferPointer) -> CellID {
        if let key = PackedSlot(packing: token) { return intern(packed: key, token) }
        return intern(hashed: token)
    }

    /// The packed table's slot holding `key`, with its cell, or the empty slot ending its
    /// probe sequence.
    @inline(__always)
    private func find(_ key: PackedSlot) -> (slot: Int, cell: CellID?) {
        let mask = packedSlots.count - 1
        var slot = key.slotHash & mask
        while true {
            let entry = packedSlots[slot]
            if entry.high == 0 { return (slot, nil) }
            if entry.low == key.low,
                UInt32(truncatingIfNeeded: entry.high) == UInt32(truncatingIfNeeded: key.high)
            {
                return (slot, CellID(rawValue: UInt32(truncatingIfNeeded: entry.high >> 32) - 1))
            }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private func intern(packed key: PackedSlot, _ token: UnsafeRawBufferPointer) -> CellID {
        let (slot, found) = find(key)
        if let found { return found }
        guard let id = newID(token, hash: 0) else { return .overflow }
        packedSlots[slot] = PackedSlot(low: key.low, high: key.high | (UInt64(id + 1) << 32))
        packedCount += 1
        if packedCount * 2 > packedSlots.count { growPacked() }
        return CellID(rawValue: UInt32(truncatingIfNeeded: id))
    }

    /// Records a new token's bytes and returns its id, or `nil` past `limit`.
    private func newID(_ token: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        guard count < limit else { return nil }
        let id = count
        count += 1
        hashes.append(hash)
        arena.append(contentsOf: token)
        offsets.append(arena.count)
        return id
    }

    private func intern(hashed token: UnsafeRawBufferPointer) -> CellID {
        let hash = ByteHash.hash(token)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            let id = Int(entry - 1)
            if hashes[id] == hash, tokenEquals(id, token) { return CellID(rawValue: entry - 1) }
            slot = (slot + 1) & mask
        }
        guard let id = newID(token, hash: hash) else { return .overflow }
        slots[slot] = UInt32(truncatingIfNeeded: id + 1)
        slotsUsed += 1
        if slotsUsed * 2 > slots.count { grow() }
        return CellID(rawValue: UInt32(truncatingIfNeeded: id))
    }

    /// Interns a token given as a string (for tests and cell tables).
    public func intern(_ token: String) -> CellID {
        var token = token
        return token.withUTF8 { intern(UnsafeRawBufferPointer($0)) }
    }

    /// Returns the id of `token` when it has been interned, without adding it.
    public func lookup(_ token: String) -> CellID? {
        var token = token
        return token.withUTF8 { bytes -> CellID? in
            let raw = UnsafeRawBufferPointer(bytes)
            if let key = PackedSlot(packing: raw) { return find(key).cell }
            let hash = ByteHash.hash(raw)
            let mask = slots.count - 1
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 {
                let id = Int(slots[slot] - 1)
                if hashes[id] == hash, tokenEquals(id, raw) { return CellID(rawValue: UInt32(id)) }
                slot = (slot + 1) & mask
            }
            return nil
        }
    }

    /// The token of an interned cell.
    public func name(of cell: CellID) -> String {
        let id = Int(cell.rawValue)
        precondition(id < count, "cell id was not issued by this interner")
        return String(decoding: arena[offsets[id]..<offsets[id + 1]], as: UTF8.self)
    }

    /// Appends the token of an interned cell to `bytes`.
    public func writeName(of cell: CellID, into bytes: inout [UInt8]) {
        let id = Int(cell.rawValue)
        bytes.append(contentsOf: arena[offsets[id]..<offsets[id + 1]])
    }

    /// Bytes held by the table, the hashes and the arena.
    public var footprintBytes: Int {
        packedSlots.count * MemoryLayout<PackedSlot>.stride + slots.count * 4
            + hashes.capacity * 8 + offsets.capacity * 8 + arena.capacity
    }

    // MARK: - Private

    @inline(__always)
    private func tokenEquals(_ id: Int, _ token: UnsafeRawBufferPointer) -> Bool {
        let start = offsets[id]
        let length = offsets[id + 1] - start
        guard length == token.count else { return false }
        return arena.withUnsafeBytes { stored in
            guard let storedBase = stored.baseAddress, let tokenBase = token.baseAddress else {
                return length == 0
            }
            return memcmp(storedBase + start, tokenBase, length) == 0
        }
    }

    private func growPacked() {
        let old = packedSlots
        packedSlots = .allocate(capacity: old.count * 2)
        packedSlots.initialize(repeating: PackedSlot(low: 0, high: 0))
        let mask = packedSlots.count - 1
        for entry in old where entry.high != 0 {
            var slot = entry.slotHash & mask
            while packedSlots[slot].high != 0 { slot = (slot + 1) & mask }
            packedSlots[slot] = entry
        }
        old.deallocate()
    }

    private func grow() {
        let old = slots
        slots = .allocate(capacity: old.count * 2)
        slots.initialize(repeating: 0)
        let mask = slots.count - 1
        for entry in old where entry != 0 {
            var slot = Int(truncatingIfNeeded: hashes[Int(entry - 1)]) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = entry
        }
        old.deallocate()
    }
}

/// A cell token of digits and the separators `-` `.` `/` `:` packed four bits a byte.
///
/// Those bytes are the contiguous range 0x2D-0x3A, whose low nibbles are all different, so
/// a token is its bytes' low nibbles and its length: bytes 0-15 in `low`, 16-21 in bits 0-23
/// of `high`, the length in bits 24-28. The high half of `high` holds the id + 1 in a
/// table slot (0: empty). Eight bytes are checked and packed at a time.
struct PackedSlot {
    var low: UInt64
    var high: UInt64

    static let maxLength = 22

    init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// Packs `token` when it has 1 to 22 bytes, each a digit or one of `- . / :`; `nil`
    /// otherwise (the interner's hashed table takes those).
    @inline(__always)
    init?(packing token: UnsafeRawBufferPointer) {
        let count = token.count
        guard count > 0, count <= Self.maxLength, let base = token.baseAddress else { return nil }
        // Straight-line for the usual 9 to 22 bytes: whole words, then the last bytes read as
        // the end of the word that finishes the token (inside it), shifted down.
        guard count > 8 else {
            guard let packed = Self.pack(Self.load(base, count), count) else { return nil }
            low = packed
            high = UInt64(count) << 24
            return
        }
        guard let first = Self.pack(base.loadUnaligned(as: UInt64.self), 8),
            let second = Self.pack(Self.tail(base, count, from: 8), min(8, count - 8))
        else { return nil }
        var third: UInt64 = 0
        if count > 16 {
            guard let packed = Self.pack(Self.tail(base, count, from: 16), count - 16) else {
                return nil
            }
            third = packed
        }
        low = first | second << 32
        high = third | UInt64(count) << 24
    }

    /// The bytes of `base[offset..<min(offset + 8, count)]` as a little-endian word, zero above,
    /// read as one load ending at `count` (the token has at least eight bytes before it).
    @inline(__always)
    static func tail(_ base: UnsafeRawPointer, _ count: Int, from offset: Int) -> UInt64 {
        let length = min(8, count - offset)
        let word = base.loadUnaligned(fromByteOffset: offset + length - 8, as: UInt64.self)
        // (Masking shift: `length` is 1...8, and the plain `>>` checks for overshifts.)
        return word &>> UInt64(truncatingIfNeeded: (8 &- length) &* 8)
    }

    /// Up to eight bytes at `start`, little-endian, zero above `length`; reads no further.
    @inline(__always)
    static func load(_ start: UnsafeRawPointer, _ length: Int) -> UInt64 {
        if length == 8 { return start.loadUnaligned(as: UInt64.self) }
        var word: UInt64 = 0
        for index in 0..<length {
            word |= UInt64(start.load(fromByteOffset: index, as: UInt8.self)) << (UInt64(index) * 8)
        }
        return word
    }

    /// The low nibbles of a word's first `length` bytes in 32 bits, or `nil` when one of them
    /// is outside 0x2D-0x3A.
    @inline(__always)
    static func pack(_ word: UInt64, _ length: Int) -> UInt64? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let used = length == 8 ? ~0 : (UInt64(1) << (UInt64(length) * 8)) - 1
        // Each byte b in 0x00-0x7F: b + (0x80 - 0x2D) sets its high bit when b >= 0x2D, and
        // b + (0x80 - 0x3B) when b >= 0x3B; bytes of 0x80 and above are refused first.
        let isAbove = (word & ~highs) &+ ones &* (0x80 - 0x2D)
        let isPast = (word & ~highs) &+ ones &* (0x80 - 0x3B)
        let inRange = (isAbove & ~isPast & ~word) & highs
        guard inRange & used == highs & used else { return nil }
        var nibbles = word & 0x0F0F_0F0F_0F0F_0F0F & used
        nibbles = (nibbles | nibbles >> 4) & 0x00FF_00FF_00FF_00FF
        nibbles = (nibbles | nibbles >> 8) & 0x0000_FFFF_0000_FFFF
        nibbles = (nibbles | nibbles >> 16) & 0xFFFF_FFFF
        return nibbles
    }

    /// The slot to probe first, from the token's bits (the id is masked out).
    ///
    /// Cell names share long prefixes (`460-00-4…`) and differ in their last digits: the
    /// finaliser (MurmurHash3's fmix64) folds every bit into the low ones the table uses.
    @inline(__always)
    var slotHash: Int {
        var mixed = low ^ ((high & 0xFFFF_FFFF) &* 0x9E37_79B9_7F4A_7C15)
        mixed ^= mixed >> 33
        mixed &*= 0xFF51_AFD7_ED55_8CCD
        mixed ^= mixed >> 33
        mixed &*= 0xC4CE_B9FE_1A85_EC53
        mixed ^= mixed >> 33
        return Int(truncatingIfNeeded: mixed)
    }
}
