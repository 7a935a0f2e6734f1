import Glibc

/// Gives each distinct cell token a dense integer id, in order of first appearance.
///
/// Cell tokens (`460-00-4521-12345`) are compared as bytes, so interning a cell seen before
/// allocates nothing: an open-addressing table of ids, probed linearly, with the tokens
/// stored once in a byte arena. Ids are assigned in input order, so the same input gives
/// the same ids in every run.
///
/// - Complexity: `intern` is O(token length) expected; the table doubles at half load.
public final class CellInterner {
    /// The number of distinct cells seen.
    @exclusivity(unchecked) public private(set) var count = 0

    // The storage is touched only inside this class's own methods, which never call out
    // while an access is open, so the runtime's exclusivity checks (about 170 instructions a
    // record, measured with callgrind) buy nothing here.

    /// Slot → id + 1 (0 = empty); its count is a power of two.
    @exclusivity(unchecked) private var slots: UnsafeMutableBufferPointer<UInt32>
    /// id → hash of its token, to skip most byte comparisons while probing.
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
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0)
        hashes.reserveCapacity(expectedCount)
        offsets.reserveCapacity(expectedCount + 1)
    }

    deinit { slots.deallocate() }

    /// Returns the id of `token`, assigning the next id when it is new, or `.overflow` when it
    /// is new and `limit` cells are interned already.
    @inline(__always)
    public func intern(_ token: UnsafeRawBufferPointer) -> CellID {
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
        guard count < limit else { return .overflow }
        let id = count
        count += 1
        slots[slot] = UInt32(truncatingIfNeeded: id + 1)
        hashes.append(hash)
        arena.append(contentsOf: token)
        offsets.append(arena.count)
        if count * 2 > slots.count { grow() }
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
        slots.count * 4 + hashes.capacity * 8 + offsets.capacity * 8 + arena.capacity
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
