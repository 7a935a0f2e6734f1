import CDRRecords
import Glibc
import JSONText
import SIMBoxDetection

/// Keeps the recent input lines so that each flagged cluster can be traced to the records
/// behind it: the `--evidence` stage, beside the detector (issue #12).
///
/// An evidence line is written for every record (any type: calls, SMS, data) of each SIM of
/// each cluster, from the `window_start` of the first decision that lists the SIM until the
/// cluster's `closed` decision (its `detected_at`, exclusive), or the end of input. The
/// decision that names a SIM comes up to a window after the SIM's first counted record, and
/// the detector runs behind the parser, so every accepted record is retained for a while: a
/// compact entry (SIM, event time, input, line number, where its text is) in arrival order,
/// and the line's bytes in a text arena.
///
/// An entry is released when no decision yet to come can cover it: its event time is before
/// the detector's watermark less a window and two hops, so every decision whose window
/// starts at or before it, and any `closed` decision before it, has been noted. It is then
/// written for each cluster whose interval holds it, in arrival order; the lines are the same
/// whatever the threads' timing. At the end of input all that is left is released.
///
/// The text arena is bounded (`maxArenaBytes`): past it the oldest entries are released early
/// against the decisions known so far, and counted (`forcedReleases`), so a lagging detector
/// costs evidence, never unbounded memory. A retained record costs its line's bytes plus a
/// 40-byte entry.
struct EvidenceStage {
    /// One retained record.
    private struct Entry {
        var imsi: UInt64
        var time: Int64
        var line: Int32
        var input: Int32
        var offset: Int
        var length: Int
    }

    /// A cluster's interval: SIMs join it at their start; it ends at its `closed` decision.
    private struct Cluster {
        var name: String
        var end: Int64 = .max
    }

    /// Where a SIM belongs: a cluster, from a time on.
    private struct Membership {
        var cluster: Int
        var start: Int64
    }

    /// Text bytes held before the oldest records are released early.
    let maxArenaBytes: Int
    /// How far behind the detector's watermark a record may still be named by a decision.
    private let reach: Int64

    /// Retained records, oldest first: a ring of `entries.count` (a power of two) slots, the
    /// oldest at `head`, `held` of them in use.
    private var entries = [Entry](
        repeating: Entry(imsi: 0, time: 0, line: 0, input: 0, offset: 0, length: 0),
        count: 1 << 16)
    private var head = 0
    private var held = 0
    private let arena: TextArena

    private var clusters: [Int: Cluster] = [:]
    private var memberships: [UInt64: [Membership]] = [:]
    /// One bit per hash of a flagged SIM's IMSI: most records are not of one, and the bit
    /// says so without a dictionary lookup.
    private var flaggedBits = [UInt64](repeating: 0, count: 1024)
    private var inputNames: [String] = []

    /// Records released early because the arena was full.
    private(set) var forcedReleases = 0
    /// The most text bytes held at once.
    private(set) var peakArenaBytes = 0
    /// Evidence lines written.
    private(set) var linesWritten = 0

    /// - Parameters:
    ///   - profile: the detection profile: its window, hop and lateness bound how long a
    ///     record may wait for the decision that names its SIM.
    ///   - longestLine: the longest line a record can have (`--max-line-bytes`).
    ///   - maxArenaBytes: the text arena's bound.
    init(profile: DetectionProfile, longestLine: Int, maxArenaBytes: Int = 512 << 20) {
        self.maxArenaBytes = maxArenaBytes
        let minutes = profile.windowMinutes + 2 * profile.hopMinutes
        reach = Int64(minutes * 60_000)
        arena = TextArena(capacity: maxArenaBytes, longestLine: longestLine)
    }

    /// Starts an input: its lines are numbered from 1 and carry its name.
    mutating func beginInput(named name: String) {
        inputNames.append(name)
    }

    /// Retains a record the parser accepted, with its line (without the line end).
    ///
    /// - Complexity: amortized O(1) and the line's length; no allocation once the arrays
    ///   have grown to the run's steady size.
    @inline(__always)
    mutating func retain(
        imsi: IMSI, time: EventTime, line: Int, text: UnsafeRawBufferPointer,
        into output: inout [UInt8]
    ) {
        var offset = arena.append(text)
        while offset == nil, held > 0 {
            // Full: release the oldest half early, against the decisions known so far.
            let target = arena.bytesHeld / 2
            while arena.bytesHeld > target, held > 0 {
                forcedReleases += 1
                releaseHead(into: &output)
            }
            offset = arena.append(text)
        }
        guard let offset else { return }  // a line longer than the whole arena
        if held == entries.count { grow() }
        entries[(head + held) & (entries.count - 1)] = Entry(
            imsi: imsi.rawValue, time: time.millisecondsSinceEpoch,
            line: Int32(truncatingIfNeeded: line),
            input: Int32(inputNames.count - 1), offset: offset, length: text.count)
        held += 1
        if arena.bytesHeld > peakArenaBytes { peakArenaBytes = arena.bytesHeld }
    }

    /// Takes note of a decision that is written: its new SIMs join the cluster from its
    /// window's start; a `closed` decision ends the cluster.
    mutating func note(_ decision: ClusterDecision) {
        let id = decision.clusterID
        if clusters[id] == nil { clusters[id] = Cluster(name: "cp-\(id)") }
        for sim in decision.sims {
            let key = sim.imsi.rawValue
            if memberships[key]?.contains(where: { $0.cluster == id }) == true { continue }
            memberships[key, default: []].append(
                Membership(cluster: id, start: decision.windowStart.millisecondsSinceEpoch))
            let bit = Self.bit(of: key)
            flaggedBits[bit >> 6] |= 1 << UInt64(bit & 63)
        }
        if decision.kind == .closed {
            clusters[id]?.end = decision.windowEnd.millisecondsSinceEpoch
        }
    }

    /// Releases the records no decision yet to come can name: those before `watermark` less
    /// a window and two hops.
    mutating func release(before watermark: EventTime?, into output: inout [UInt8]) {
        guard let watermark else { return }
        let horizon = watermark.millisecondsSinceEpoch - reach
        while held > 0, entries[head].time < horizon {
            releaseHead(into: &output)
        }
    }

    /// Releases every record still held (the end of input: every decision is known).
    mutating func releaseAll(into output: inout [UInt8]) {
        while held > 0 { releaseHead(into: &output) }
    }

    // MARK: - Private

    private static func bit(of key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 48)
    }

    @inline(__always)
    private mutating func releaseHead(into output: inout [UInt8]) {
        let entry = entries[head]
        head = (head + 1) & (entries.count - 1)
        held -= 1
        arena.release(through: entry.offset + entry.length)
        let bit = Self.bit(of: entry.imsi)
        guard flaggedBits[bit >> 6] & (1 << UInt64(bit & 63)) != 0,
            let joined = memberships[entry.imsi]
        else { return }
        for membership in joined where entry.time >= membership.start {
            guard let cluster = clusters[membership.cluster], entry.time < cluster.end else {
                continue
            }
            write(entry, cluster: cluster.name, into: &output)
        }
    }

    private mutating func write(_ entry: Entry, cluster: String, into output: inout [UInt8]) {
        linesWritten += 1
        var json = JSONWriter()
        json.beginObject()
        json.key("cluster_id"); json.string(cluster)
        json.key("input"); json.string(inputNames[Int(entry.input)])
        json.key("line"); json.int(Int(entry.line))
        json.key("text")
        json.string(bytes: arena.bytes(at: entry.offset, count: entry.length))
        json.endObject()
        json.newline()
        output.append(contentsOf: json.bytes)
    }

    /// Doubles the ring, the oldest entry first (a city's peak hour: a few hundred thousand
    /// entries, so this happens a handful of times in a run).
    private mutating func grow() {
        var larger = entries
        larger.append(contentsOf: entries)
        for index in 0..<held {
            larger[index] = entries[(head + index) & (entries.count - 1)]
        }
        entries = larger
        head = 0
    }
}

/// The evidence stage's line text, in chunks handed back to a pool once released.
///
/// Chunks of `chunkSize` bytes (1 MiB, or the longest line allowed) are filled in order and
/// pooled when every line in them is released. Nothing is moved, memory follows the live
/// text to within a chunk, and in a steady state no chunk is allocated or page first touched.
///
/// Offsets are absolute: chunk number × `chunkSize` + position; a line never spans chunks.
final class TextArena {
    let chunkSize: Int
    private let maxChunks: Int
    /// Live chunks, oldest first: `chunks[i]` is chunk number `firstChunk + i`.
    private var chunks: [UnsafeMutableRawPointer] = []
    private var firstChunk = 0
    private var spare: [UnsafeMutableRawPointer] = []
    /// The absolute offset where the next line goes.
    private var end = 0
    /// Everything before this absolute offset is released.
    private var start = 0

    /// - Parameters:
    ///   - capacity: bytes of text held at most (rounded down to whole chunks, at least 2).
    ///   - longestLine: the longest line that can be appended.
    init(capacity: Int, longestLine: Int) {
        chunkSize = max(1 << 20, longestLine)
        maxChunks = max(2, capacity / chunkSize)
        chunks.reserveCapacity(maxChunks + 1)
        spare.reserveCapacity(maxChunks + 1)
    }

    deinit {
        for chunk in chunks + spare { chunk.deallocate() }
    }

    /// Text bytes held, counted in whole chunks (what the arena keeps from the allocator).
    var bytesHeld: Int { chunks.count * chunkSize }

    /// Copies `bytes` in; their absolute offset, or `nil` when the arena is full.
    @inline(__always)
    func append(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var position = end % chunkSize
        if chunks.isEmpty || end >= (firstChunk + chunks.count) * chunkSize
            || position + bytes.count > chunkSize
        {
            // The next chunk: the current one is full, or there is none yet.
            guard chunks.count < maxChunks else { return nil }
            let serial = (end + chunkSize - 1) / chunkSize
            if chunks.isEmpty { firstChunk = serial }
            chunks.append(spare.popLast() ?? .allocate(byteCount: chunkSize, alignment: 64))
            end = serial * chunkSize
            position = 0
        }
        let offset = end
        if let source = bytes.baseAddress {
            (chunks[chunks.count - 1] + position).copyMemory(from: source, byteCount: bytes.count)
        }
        end += bytes.count
        return offset
    }

    /// Marks everything before `offset` released, and pools the chunks it empties.
    @inline(__always)
    func release(through offset: Int) {
        start = max(start, offset)
        // A chunk is empty once the release passes its end, or reaches the end of the text.
        while let first = chunks.first,
            (firstChunk + 1) * chunkSize <= start || (start == end && chunks.count == 1)
        {
            spare.append(first)
            chunks.removeFirst()
            firstChunk += 1
            if chunks.isEmpty { break }
        }
    }

    func bytes(at offset: Int, count: Int) -> UnsafeRawBufferPointer {
        let chunk = chunks[offset / chunkSize - firstChunk]
        return UnsafeRawBufferPointer(start: chunk + offset % chunkSize, count: count)
    }
}
