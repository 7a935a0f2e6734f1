import CDRRecords
import Glibc
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

    private var entries: [Entry] = []
    private var head = 0
    private var arena: [UInt8] = []
    /// The absolute offset of `arena[0]`.
    private var arenaBase = 0
    private var arenaHead = 0

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
    ///   - maxArenaBytes: the text arena's bound.
    init(profile: DetectionProfile, maxArenaBytes: Int = 512 << 20) {
        self.maxArenaBytes = maxArenaBytes
        let minutes = profile.windowMinutes + 2 * profile.hopMinutes
        reach = Int64(minutes * 60_000)
        entries.reserveCapacity(1 << 16)
        arena.reserveCapacity(1 << 22)
    }

    /// Bytes held now: text and entries.
    var bytesHeld: Int { arena.count - (arenaHead - arenaBase) + (entries.count - head) * 40 }

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
        let offset = arenaBase + arena.count
        arena.append(contentsOf: text)
        entries.append(
            Entry(
                imsi: imsi.rawValue, time: time.millisecondsSinceEpoch,
                line: Int32(truncatingIfNeeded: line),
                input: Int32(inputNames.count - 1), offset: offset, length: text.count))
        let held = arena.count - (arenaHead - arenaBase)
        if held > peakArenaBytes { peakArenaBytes = held }
        if held > maxArenaBytes {
            while arena.count - (arenaHead - arenaBase) > maxArenaBytes / 2, head < entries.count {
                forcedReleases += 1
                releaseHead(into: &output)
            }
            compact()
        }
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
        while head < entries.count, entries[head].time < horizon {
            releaseHead(into: &output)
        }
        compact()
    }

    /// Releases every record still held (the end of input: every decision is known).
    mutating func releaseAll(into output: inout [UInt8]) {
        while head < entries.count { releaseHead(into: &output) }
        compact()
    }

    // MARK: - Private

    private static func bit(of key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 48)
    }

    @inline(__always)
    private mutating func releaseHead(into output: inout [UInt8]) {
        let entry = entries[head]
        head += 1
        arenaHead = entry.offset + entry.length
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
        let start = entry.offset - arenaBase
        arena.withUnsafeBytes { bytes in
            json.string(
                bytes: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + entry.length)]))
        }
        json.endObject()
        json.newline()
        output.append(contentsOf: json.bytes)
    }

    /// Drops released entries and text once they are at least half of what is stored, so
    /// the memmove is paid for by as many appends.
    private mutating func compact() {
        if head > 4096, head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
        let dead = arenaHead - arenaBase
        if dead > 1 << 20, dead * 2 >= arena.count {
            arena.removeFirst(dead)
            arenaBase = arenaHead
        }
    }
}
