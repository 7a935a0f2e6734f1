extension SlidingWindow {
    /// Checks the ring after each mutation in debug builds; a no-op in release builds.
    ///
    /// - every occupied slot holds the bucket it should (`bucket mod count`), no older than
    ///   the oldest bucket any open window can still need;
    /// - `storedLiveCount` is the number of events held;
    /// - the next window end is a multiple of the hop.
    @inlinable @inline(__always)
    func checkInvariants() {
        #if DEBUG
            let hop = configuration.hopMilliseconds
            var held = 0
            let oldest =
                nextWindowEnd.map { ($0 - configuration.widthMilliseconds) / hop - 1 } ?? .min
            for (slot, bucket) in bucketNumbers.enumerated() {
                if bucket == .min {
                    assert(slots[slot].isEmpty, "an empty slot holds events")
                    continue
                }
                assert(
                    Int(((bucket % Int64(slots.count)) + Int64(slots.count)) % Int64(slots.count))
                        == slot)
                assert(bucket >= oldest, "a bucket outlived every window")
                held += slots[slot].count
            }
            assert(held == storedLiveCount, "storedLiveCount drifted")
            if let nextWindowEnd {
                assert(nextWindowEnd % hop == 0, "window ends are multiples of the hop")
            }
        #endif
    }
}
