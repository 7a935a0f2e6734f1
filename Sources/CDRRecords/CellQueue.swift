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
/// A parsed record's `cell` is its place in the queue until `resolve(in:into:)`.
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
    @exclusivity(unchecked) private var entries: [Entry] = []
    @exclusivity(unchecked) private var unpackedBytes: [UInt8] = []
    @exclusivity(unchecked) private var unpacked: [Range<Int>] = []
    /// How many tokens ahead of the one interned its slot is loaded.
    static let lookahead = 16

    public init(capacity: Int) { entries.reserveCapacity(capacity) }

    /// Tokens taken and not yet resolved.
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// Queues `token`; the record's `cell` is its place in the queue.
    @inline(__always)
    public func take(
        _ token: UnsafeRawBufferPointer, readableFrom readableStart: UnsafeRawPointer?
    ) -> CellID {
        precondition(entries.count < Int(UInt32.max), "resolve the queue before 2^32 tokens")
        let place = CellID(rawValue: UInt32(truncatingIfNeeded: entries.count))
        if let key = PackedSlot(packing: token, readableFrom: readableStart) {
            entries.append(Entry(key: key, hash: key.probeHash))
        } else {
            let start = unpackedBytes.count
            unpackedBytes.append(contentsOf: token)
            entries.append(Entry(key: .empty, hash: UInt64(unpacked.count)))
            unpacked.append(start..<unpackedBytes.count)
        }
        return place
    }

    /// Interns the queued tokens in order, sets `ids[place]` to each one's id, and empties
    /// the queue.
    public func resolve(in cells: CellInterner, into ids: inout [CellID]) {
        ids.removeAll(keepingCapacity: true)
        ids.reserveCapacity(entries.count)
        entries.withUnsafeBufferPointer { entries in
            let count = entries.count
            for index in 0..<min(Self.lookahead, count) where !entries[index].key.isEmpty {
                cells.prefetch(packedHash: entries[index].hash)
            }
            for index in 0..<count {
                let ahead = index &+ Self.lookahead
                if ahead < count, !entries[ahead].key.isEmpty {
                    cells.prefetch(packedHash: entries[ahead].hash)
                }
                let entry = entries[index]
                if !entry.key.isEmpty {
                    ids.append(cells.intern(packed: entry.key, hash: entry.hash))
                } else {
                    let range = unpacked[Int(entry.hash)]
                    ids.append(
                        unpackedBytes.withUnsafeBytes {
                            cells.intern(hashed: UnsafeRawBufferPointer(rebasing: $0[range]))
                        })
                }
            }
        }
        entries.removeAll(keepingCapacity: true)
        unpackedBytes.removeAll(keepingCapacity: true)
        unpacked.removeAll(keepingCapacity: true)
    }
}
