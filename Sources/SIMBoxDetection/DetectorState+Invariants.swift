extension DetectorState {
    /// Checks what every evaluation leaves true, in debug builds; a no-op in release builds.
    ///
    /// - each lookup table keeps its own invariants (`ProbeTable.checkInvariants`), and the
    ///   busy callers' bits mark exactly the SIMs that have one;
    /// - every live SIM (non-zero IMSI) is found by its IMSI, and by its MSISDN when it has one,
    ///   and the tables hold nothing else;
    /// - an evicted SIM is in no table and no cluster; free and quarantined numbers are evicted;
    /// - each SIM's distinct callees are its pairs in the callee table, or its one callee
    ///   kept in its counts;
    /// - a SIM's window counts are of calls the window holds for it;
    /// - `hot` holds exactly the SIMs marked hot, once each;
    /// - a SIM's cluster is tracked and holds it.
    ///
    /// O(SIMs + callee pairs); with more than 5,000 SIMs it runs at every 64th evaluation, so
    /// debug test runs stay quick.
    func checkInvariants(evaluation: Int) {
        #if DEBUG
            guard history.count <= 5_000 || evaluation % 64 == 0 else { return }
            simByIMSI.checkInvariants { history[$0].imsi }
            simByMSISDN.checkInvariants { history[$0].msisdn }
            callees.checkInvariants()
            busyCallers.checkInvariants()
            var live = 0
            var withNumber = 0
            var pairs = [Int32](repeating: 0, count: history.count)
            callees.forEachPair { sim, _, count in
                precondition(Int(sim) < history.count && count > 0, "a callee pair of no SIM")
                pairs[Int(sim)] += 1
            }
            var isListedHot = [Bool](repeating: false, count: history.count)
            for sim in hot {
                precondition(!isListedHot[Int(sim)], "SIM \(sim) is in hot twice")
                isListedHot[Int(sim)] = true
            }
            for sim in 0..<Int32(history.count) {
                let entry = history[sim]
                let window = counts[sim]
                // Each count is of calls the window holds (so 16 bits hold it).
                precondition(
                    Int(window.callsOut) + Int(window.callsInExternal)
                        + Int(window.callsInFromBusy) <= Int(window.heldCalls)
                        && window.answered <= window.callsOut
                        && window.distinctCallees <= window.callsOut
                        && window.soloCalls <= window.callsOut,
                    "SIM \(sim) counts more calls than the window holds")
                // A SIM's one callee is in its counts, or all its callees are pairs.
                precondition(
                    window.soloPeer == 0
                        ? window.soloCalls == 0 && Int(window.distinctCallees) == pairs[Int(sim)]
                        : window.soloCalls > 0 && window.distinctCallees == 1
                            && pairs[Int(sim)] == 0,
                    "SIM \(sim) callees")
                precondition(window.isHot == isListedHot[Int(sim)], "SIM \(sim) hot mark")
                if entry.cluster >= 0 {
                    precondition(
                        tracked[Int(entry.cluster)]?.sims.contains(sim) == true,
                        "SIM \(sim) in an untracked cluster")
                }
                guard entry.imsi != 0 else {
                    precondition(entry.cluster < 0, "evicted SIM \(sim) in a cluster")
                    continue
                }
                live += 1
                precondition(
                    simByIMSI.number(for: entry.imsi) { history[$0].imsi == entry.imsi } == sim,
                    "SIM \(sim) not found by its IMSI")
                if entry.msisdn != 0 {
                    withNumber += 1
                    precondition(
                        simByMSISDN.number(for: entry.msisdn) { history[$0].msisdn == entry.msisdn }
                            >= 0, "SIM \(sim) not found by its MSISDN")
                }
            }
            precondition(simByIMSI.count == live, "the IMSI table holds evicted SIMs")
            precondition(simByMSISDN.count == withNumber, "the MSISDN table holds evicted SIMs")
            for sim in freeNumbers + quarantined.map(\.number) {
                precondition(history[sim].imsi == 0, "a free number names a live SIM")
            }
        #endif
    }
}
