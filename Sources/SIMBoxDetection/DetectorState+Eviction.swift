/// How much state the detector may hold: `--max-state-mb`.
///
/// The per-SIM tables take half the budget (about 120 bytes a SIM with its share of the IMSI
/// and MSISDN tables); three eighths go to the window's calls with their callee pairs and
/// queued window steps (`maxWindowCalls`), and an eighth to the cell names (`maxCells`).
public struct StateLimits: Sendable, Equatable {
    public var maxBytes: Int

    /// 2 GiB: a city's day (a million SIMs) needs about a tenth of it; a dump with more than
    /// 8.9 million distinct SIMs starts evicting instead of taking the machine.
    public static let standard = StateLimits(maxBytes: 2 << 30)

    public init(maxBytes: Int) { self.maxBytes = maxBytes }

    /// Bytes one SIM costs: its history and counts, and up to three 4-byte slots in each of
    /// the two lookup tables (they double at 70 % load): 120.
    static let bytesPerSIM =
        MemoryLayout<SIMHistory>.stride + MemoryLayout<SIMCounts>.stride
        + 2 * 3 * MemoryLayout<IndexMap.Slot>.stride

    /// The most SIMs held at once.
    public var maxSIMs: Int { max(64, maxBytes / 2 / Self.bytesPerSIM) }
    /// The most distinct cells named at once (a cell costs about 64 bytes).
    public var maxCells: Int { max(1024, maxBytes / 8 / 64) }

    /// Bytes one call in the window costs at most: its 16-byte event in a bucket array that
    /// may have doubled, its callee pair's 16-byte slot in a table that may have just doubled
    /// at 70 % load (46 bytes a pair; 64 counted), and its 24-byte queued step: 120.
    static let bytesPerWindowCall =
        2 * MemoryLayout<WindowEvent>.stride + 4 * MemoryLayout<CalleeCounts.Slot>.stride
        + MemoryLayout<QueuedStep>.stride

    /// The most calls the window holds at once (about 6 million in the default 2 GiB, where
    /// a city's busiest hour has under 2 million); half as many once it is under pressure,
    /// bar SIMs holding fewer than `heavySIMCalls`.
    public var maxWindowCalls: Int { max(4096, maxBytes / 8 * 3 / Self.bytesPerWindowCall) }

    /// A SIM holding this many calls in a window under pressure gets no more in: a box's
    /// channel places about one a minute, a flood's few SIMs thousands.
    public var heavySIMCalls: Int { max(64, maxWindowCalls / 256) }
}

extension DetectorState {
    /// Gives a new SIM a number: a free one, a fresh one while under the cap, or one freed by
    /// evicting the least recently active SIMs; -1 when none can be had now.
    func allocate(_ imsi: UInt64) -> Int32 {
        if freeNumbers.isEmpty, history.count >= limits.maxSIMs, newestTime >= nextSweep {
            sweep()
        }
        let sim: Int32
        if let free = freeNumbers.popLast() {
            sim = free
            assert(counts[sim].isEmpty, "a reused SIM number still counts calls")
            history[sim] = SIMHistory(imsi: imsi)
            busyCallers[sim] = nil
        } else if history.count < limits.maxSIMs {
            sim = Int32(history.count)
            history.append(SIMHistory(imsi: imsi))
            counts.append(SIMCounts())
        } else {
            return -1
        }
        simByIMSI.insert(imsi, number: sim) { history[$0].imsi }
        return sim
    }

    /// The SIM's calls have all left the window once an evaluated window ends after this.
    private func leavesBy(_ lastSeen: Int64) -> Int64 {
        lastSeen + windows.widthMilliseconds + windows.hopMilliseconds
    }

    /// Frees numbers: first those of evicted SIMs whose calls have all left the window, then
    /// evicts the least recently active eighth of the SIMs not in a tracked cluster.
    ///
    /// A sweep costs O(SIMs) and frees an eighth of them, so it is amortised over as many
    /// new SIMs; when it frees nothing (every SIM is live in the window), no sweep runs
    /// again for one hop of event time and new SIMs' records are shed meanwhile.
    private func sweep() {
        quarantined.removeAll { entry in
            guard entry.releaseAt < evaluatedUpTo else { return false }
            freeNumbers.append(entry.number)
            return true
        }
        if freeNumbers.count < history.count / 16 {
            evictLeastRecentlyActive()
        }
        if freeNumbers.isEmpty { nextSweep = newestTime + windows.hopMilliseconds }
        // Lowest numbers last, so they are reused first: deterministic, and compact.
        freeNumbers.sort(by: >)
    }

    private func evictLeastRecentlyActive() {
        @inline(__always) func isEvictable(_ sim: Int32) -> Bool {
            history[sim].imsi != 0 && history[sim].cluster < 0
        }
        // The cut-off: the oldest eighth of a regular sample of last-seen times.
        let total = history.count
        let stride = max(1, total / 4096)
        var sample: [Int64] = []
        for index in Swift.stride(from: 0, to: total, by: stride) where isEvictable(Int32(index)) {
            sample.append(history[Int32(index)].lastSeen)
        }
        guard !sample.isEmpty else { return }
        sample.sort()
        let cutoff = sample[sample.count / 8]
        for index in 0..<Int32(total) where isEvictable(index) && history[index].lastSeen <= cutoff
        {
            evict(index)
        }
    }

    private func evict(_ sim: Int32) {
        let entry = history[sim]
        simByIMSI.remove(entry.imsi, number: sim) { history[$0].imsi }
        if entry.msisdn != 0 {
            simByMSISDN.remove(entry.msisdn, number: sim) { history[$0].msisdn }
        }
        history[sim].imsi = 0
        evictedSIMs += 1
        let releaseAt = leavesBy(entry.lastSeen)
        if releaseAt < evaluatedUpTo {
            freeNumbers.append(sim)
        } else {
            quarantined.append((sim, releaseAt))
        }
    }
}
