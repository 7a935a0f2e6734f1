internal import CSupport
import Glibc
import OpenAddressing

/// Gives each distinct cell token a dense integer id, in order of first appearance.
///
/// Operators name cells with digits and separators (`460-00-4521-12345`). Such a token of
/// up to 22 bytes packs into 93 bits, four per byte and its length, and the id takes the
/// other 32 of a 16-byte slot: one probe touches one slot, where hashing the string and
/// comparing it with a stored copy touched four places. With tens of thousands of cells that is the
/// difference between one cache miss a record and four (a dense city has 60,000 cells).
/// Other tokens go to a byte-hashed table with the tokens in an arena. Interning a cell
/// seen before allocates nothing. Ids are assigned in input order, so the same input gives
/// the same ids in every run.
///
/// - Complexity: `intern` is O(token length) expected; the tables (`ProbeTable`s) double at
///   70 % load.
public final class CellInterner {
    /// The number of distinct cells seen.
    @exclusivity(unchecked) public private(set) var count = 0

    // The storage is touched only inside this class's own methods, which never call out
    // while an access is open, so the runtime's exclusivity checks (about 170 instructions a
    // record, measured with callgrind) buy nothing here.

    /// Packed tokens (a packed token's id + 1 sits in the top 32 bits of its slot's `high`).
    @exclusivity(unchecked) private var packedSlots: ProbeTable<PackedSlot>
    /// Other tokens, by the hash of their bytes.
    @exclusivity(unchecked) private var hashedSlots = ProbeTable<HashedSlot>()
    /// id → start of its token in `arena`; `offsets[id + 1]` is the end.
    @exclusivity(unchecked) private var offsets: [Int] = [0]
    @exclusivity(unchecked) private var arena: [UInt8] = []

    /// The most cells interned; later new tokens get `CellID.overflow`.
    public let limit: Int

    public init(expectedCount: Int = 4096, limit: Int = Int(UInt32.max - 1)) {
        self.limit = limit
        packedSlots = ProbeTable(expectedCount: expectedCount)
        offsets.reserveCapacity(expectedCount + 1)
    }

    /// Returns the id of `token`, assigning the next id when it is new, or `.overflow` when it
    /// is new and `limit` cells are interned already.
    ///
    /// - Parameter readableStart: the start of the line the token is in, when it is in one:
    ///   the token is then packed in one or two 16-byte loads
    ///   (`PackedSlot.init(packing:readableFrom:)`).
    @inline(__always)
    public func intern(
        _ token: UnsafeRawBufferPointer, readableFrom readableStart: UnsafeRawPointer? = nil
    )
        -> CellID
    {
        if let key = PackedSlot(packing: token, readableFrom: readableStart) {
            return intern(packed: key, hash: key.probeHash)
        }
        return intern(hashed: token)
    }

    /// Returns the id of a packed token whose `probeHash` is `hash`; a new token's bytes are
    /// unpacked from the key.
    @inline(__always)
    func intern(packed key: PackedSlot, hash: UInt64) -> CellID {
        let (index, found) = packedSlots.find(hash) { $0.holds(key) }
        if found { return packedSlots[index].cell }
        guard count < limit else { return .overflow }
        key.appendToken(to: &arena)
        let id = newID()
        packedSlots.fill(index, with: key.with(id: id))
        return CellID(rawValue: UInt32(truncatingIfNeeded: id))
    }

    /// Loads the table slot a packed token with this `probeHash` is looked for in first.
    @inline(__always)
    func prefetch(packedHash hash: UInt64) { packedSlots.prefetch(hash) }

    /// The next id, for a token whose bytes were just appended to `arena`.
    private func newID() -> Int {
        let id = count
        count += 1
        offsets.append(arena.count)
        return id
    }

    /// Returns the id of a token that does not pack.
    func intern(hashed token: UnsafeRawBufferPointer) -> CellID {
        let hash = ByteHash.hash(token)
        let (index, found) = hashedSlots.find(hash) { $0.hash == hash && tokenEquals($0.id, token) }
        if found { return CellID(rawValue: UInt32(truncatingIfNeeded: hashedSlots[index].id)) }
        guard count < limit else { return .overflow }
        arena.append(contentsOf: token)
        let id = newID()
        hashedSlots.fill(index, with: HashedSlot(hash: hash, id: id))
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
            if let key = PackedSlot(packing: raw) {
                let (index, found) = packedSlots.find(key.probeHash) { $0.holds(key) }
                return found ? packedSlots[index].cell : nil
            }
            let hash = ByteHash.hash(raw)
            let (index, found) = hashedSlots.find(hash) {
                $0.hash == hash && tokenEquals($0.id, raw)
            }
            return found ? CellID(rawValue: UInt32(truncatingIfNeeded: hashedSlots[index].id)) : nil
        }
    }

    /// The token of an interned cell.
    public func name(of cell: CellID) -> String {
        withToken(of: cell) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the bytes of an interned cell's token.
    public func withToken<Result>(
        of cell: CellID, _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        let id = Int(cell.rawValue)
        precondition(id < count, "cell id was not issued by this interner")
        return arena.withUnsafeBytes {
            body(UnsafeRawBufferPointer(rebasing: $0[offsets[id]..<offsets[id + 1]]))
        }
    }

    /// Appends the token of an interned cell to `bytes`.
    public func writeName(of cell: CellID, into bytes: inout [UInt8]) {
        withToken(of: cell) { bytes.append(contentsOf: $0) }
    }

    /// Bytes held by the tables and the arena.
    public var footprintBytes: Int {
        packedSlots.bytes + hashedSlots.bytes + offsets.capacity * 8 + arena.capacity
    }

    /// Checks both tables in debug builds (see `ProbeTable.checkInvariants`).
    public func checkInvariants() {
        packedSlots.checkInvariants()
        hashedSlots.checkInvariants()
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

}

/// A token that does not pack: the hash of its bytes and its id (the bytes are in the arena).
struct HashedSlot: ProbeSlot {
    var hash: UInt64
    private var idPlusOne: UInt32

    init(hash: UInt64, id: Int) {
        self.hash = hash
        idPlusOne = UInt32(truncatingIfNeeded: id + 1)
    }

    static var empty: HashedSlot { HashedSlot(hash: 0, id: -1) }
    var isEmpty: Bool { idPlusOne == 0 }
    var probeHash: UInt64 { hash }
    var id: Int { Int(idPlusOne) - 1 }
}

/// A cell token of digits and the separators `-` `.` `/` `:` packed four bits a byte.
///
/// Those bytes are the contiguous range 0x2D-0x3A, whose low nibbles are all different, so
/// a token is its bytes' low nibbles and its length: bytes 0-15 in `low`, 16-21 in bits 0-23
/// of `high`, the length in bits 24-28. The high half of `high` holds the id + 1 in a
/// table slot (0: empty). Sixteen bytes are checked and packed at a time (`catpool_pack16`), or
/// eight where a token has fewer than 16 readable bytes before its end.
struct PackedSlot: ProbeSlot {
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

    /// Packs `token` as `init?(packing:)` does, in 16-byte loads (`catpool_pack16`) that end
    /// at the token's end or lie inside it: a token of 16 bytes or more needs nothing else
    /// readable; a shorter one needs the 16 bytes before its end, from `readableStart` on
    /// (the start of its line), or, with `nil` there or fewer bytes, is packed a word at a time.
    @inline(__always)
    init?(packing token: UnsafeRawBufferPointer, readableFrom readableStart: UnsafeRawPointer?) {
        let count = token.count
        guard count > 0, count <= Self.maxLength, let base = token.baseAddress else { return nil }
        let end = base + count
        guard count >= 16 else {
            guard let readableStart, readableStart.distance(to: end) >= 16 else {
                guard let packed = PackedSlot(packing: token) else { return nil }
                self = packed
                return
            }
            // The token is the last `count` of the 16 bytes that end with it.
            guard let nibbles = Self.last(count, of: catpool_pack16(end - 16)) else { return nil }
            low = nibbles
            high = UInt64(count) << 24
            return
        }
        let head = catpool_pack16(base)
        guard head.valid == 0xFFFF else { return nil }
        var third: UInt64 = 0
        if count > 16 {
            guard let nibbles = Self.last(count &- 16, of: catpool_pack16(end - 16)) else {
                return nil
            }
            third = nibbles
        }
        low = head.nibbles
        high = third | UInt64(count) << 24
    }

    /// The nibbles of the last `count` (1...16) of 16 packed bytes, shifted down, or `nil`
    /// when one of those bytes is not a token byte.
    @inline(__always)
    static func last(_ count: Int, of packed: catpool_nibbles16) -> UInt64? {
        let skipped = UInt32(truncatingIfNeeded: 16 &- count)
        guard packed.valid &>> skipped == (UInt32(1) &<< UInt32(truncatingIfNeeded: count)) &- 1
        else { return nil }
        return packed.nibbles &>> UInt64(skipped &* 4)
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

    /// Appends the token's bytes: each nibble back to its byte (0-9 from `0`, A `:`, D-F
    /// `-` `.` `/`).
    func appendToken(to bytes: inout [UInt8]) {
        let count = Int(high >> 24 & 0x1F)
        for index in 0..<count {
            let nibble =
                index < 16
                ? UInt8(truncatingIfNeeded: low >> UInt64(4 * index)) & 0xF
                : UInt8(truncatingIfNeeded: high >> UInt64(4 * (index - 16))) & 0xF
            bytes.append(nibble < 10 ? 0x30 | nibble : nibble == 0xA ? 0x3A : 0x20 | nibble)
        }
    }

    static var empty: PackedSlot { PackedSlot(low: 0, high: 0) }
    /// A token packs with its length, never 0, in `high`.
    var isEmpty: Bool { high == 0 }

    /// Whether this slot holds `key`'s token (whatever its id).
    @inline(__always)
    func holds(_ key: PackedSlot) -> Bool {
        low == key.low && UInt32(truncatingIfNeeded: high) == UInt32(truncatingIfNeeded: key.high)
    }

    /// The slot for `key`'s token with its id.
    func with(id: Int) -> PackedSlot {
        PackedSlot(low: low, high: high | (UInt64(id + 1) << 32))
    }

    /// The interned cell of an occupied slot.
    var cell: CellID { CellID(rawValue: UInt32(truncatingIfNeeded: high >> 32) - 1) }

    /// The hash of the token's bits (the id is masked out).
    ///
    /// Cell names share long prefixes (`460-00-4…`) and differ in their last digits: the
    /// finaliser (MurmurHash3's fmix64) folds every bit into the top ones the table uses.
    @inline(__always)
    var probeHash: UInt64 {
        var mixed = low ^ ((high & 0xFFFF_FFFF) &* 0x9E37_79B9_7F4A_7C15)
        mixed ^= mixed >> 33
        mixed &*= 0xFF51_AFD7_ED55_8CCD
        mixed ^= mixed >> 33
        mixed &*= 0xC4CE_B9FE_1A85_EC53
        mixed ^= mixed >> 33
        return mixed
    }
}
