/// Cells nobody asks for (`catpool check` only reads and counts): a record's `cell` is then
/// id 0, and the token is not looked up.
public struct IgnoredCells {
    public init() {}
}

/// Cell tokens packed as lines are parsed and interned later, a batch at a time, in order.
///
/// Interned one a line, each lookup waited for memory: with 60,000 cells the interner's table
/// (2 MB) does not stay in the cache beside the text streaming past, and 4 M records took
/// 0.2 s longer to parse than with 4,000 cells. Interned in one loop, each slot is loaded
/// `lookahead` tokens ahead, so the misses overlap. Ids come out as interning each token at
/// once would give them: in the order the tokens were taken.
///
/// A parsed record's `cell` is its place in the queue until `resolve(in:_:)`.
///
/// A class, as `CellInterner` is, so that the parser takes it as it takes the interner: a
/// struct passed `inout` made the parser copy itself for every line.
public final class CellQueue {
    /// A packed token and its hash, or, with an empty key, a token that does not pack: its
    /// bytes are `unpacked[hash]` in `unpackedBytes`.
    private struct Entry {
        var key: PackedSlot
        var hash: UInt64
    }

    // Touched only inside this class's methods, which call out to nothing that touches them.
    // The entries and ids are plain buffers, not arrays: an array's append checks that its
    // storage is unshared and has room, a tenth of what queueing a token costs.
    @exclusivity(unchecked) private var entries: UnsafeMutablePointer<Entry>
    @exclusivity(unchecked) private var ids: UnsafeMutablePointer<CellID>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private var taken = 0
    @exclusivity(unchecked) private var unpackedBytes: [UInt8] = []
    @exclusivity(unchecked) private var unpacked: [Range<Int>] = []
    /// How many tokens ahead of the one interned its slot is loaded.
    static let lookahead = 16

    /// A queue with room for `capacity` tokens before it first grows.
    public init(capacity: Int) {
        self.capacity = max(16, capacity)
        entries = .allocate(capacity: self.capacity)
        ids = .allocate(capacity: self.capacity)
    }

    deinit {
        entries.deallocate()
        ids.deallocate()
    }

    /// Tokens taken and not yet resolved.
    ///
    /// (Computed: a stored property read from another module is checked for exclusive access
    /// at run time, 76 instructions a record.)
    public var count: Int { taken }
    public var isEmpty: Bool { taken == 0 }

    /// Queues `token`; the record's `cell` is its place in the queue.
    @inline(__always)
    public func take(
        _ token: UnsafeRawBufferPointer, readableFrom readableStart: UnsafeRawPointer?
    ) -> CellID {
        if taken == capacity { grow() }
        let place = CellID(rawValue: UInt32(truncatingIfNeeded: taken))
        if let key = PackedSlot(packing: token, readableFrom: readableStart) {
            (entries + taken).initialize(to: Entry(key: key, hash: key.probeHash))
        } else {
            let start = unpackedBytes.count
            unpackedBytes.append(contentsOf: token)
            (entries + taken).initialize(to: Entry(key: .empty, hash: UInt64(unpacked.count)))
            unpacked.append(start..<unpackedBytes.count)
        }
        taken &+= 1
        return place
    }

    /// Doubles the room (a queue resolved before it fills never grows).
    private func grow() {
        precondition(capacity < Int(UInt32.max) / 2, "resolve the queue before 2^31 tokens")
        let larger = capacity * 2
        let moved = UnsafeMutablePointer<Entry>.allocate(capacity: larger)
        moved.moveInitialize(from: entries, count: taken)
        entries.deallocate()
        entries = moved
        ids.deallocate()
        ids = .allocate(capacity: larger)
        capacity = larger
    }

    /// Interns the queued tokens in order, empties the queue, and calls `body` with each one's
    /// id by place (valid in `body` only, which must not queue tokens).
    public func resolve<Result>(
        in cells: CellInterner, _ body: (UnsafeBufferPointer<CellID>) throws -> Result
    ) rethrows -> Result {
        let count = taken
        for index in 0..<min(Self.lookahead, count) where !entries[index].key.isEmpty {
            cells.prefetch(packedHash: entries[index].hash)
        }
        for index in 0..<count {
            let ahead = index &+ Self.lookahead
            if ahead < count, !entries[ahead].key.isEmpty {
                cells.prefetch(packedHash: entries[ahead].hash)
            }
            let entry = entries[index]
            let id: CellID
            if !entry.key.isEmpty {
                id = cells.intern(packed: entry.key, hash: entry.hash)
            } else {
                let range = unpacked[Int(entry.hash)]
                id = unpackedBytes.withUnsafeBytes {
                    cells.intern(hashed: UnsafeRawBufferPointer(rebasing: $0[range]))
                }
            }
            (ids + index).initialize(to: id)
        }
        taken = 0
        unpackedBytes.removeAll(keepingCapacity: true)
        unpacked.removeAll(keepingCapacity: true)
        return try body(UnsafeBufferPointer(start: ids, count: count))
    }
}
