import CDRRecords
import SIMBoxDetection
import Testing

/// `--max-state-mb` under a key explosion: the cap holds, idle SIMs are evicted, a box among
/// them is still found exactly as without a cap, and what cannot be held is counted.
struct StateCapTests {
    /// 1 MiB of state: room for about 3,600 SIMs.
    static let smallCap = StateLimits(maxBytes: 1 << 20)

    /// One call each from `count` SIMs never seen again, spread evenly over `minutes`.
    static func oneOffCallers(_ count: Int, minutes: Int) -> [(CallRecord, Int32)] {
        (0..<count).map { index in
            let offset = Int64(index) * Int64(minutes) * 60_000 / Int64(count)
            let record = CallRecord(
                eventTime: EventTime(millisecondsSinceEpoch: CatPoolDetectorTests.start + offset),
                type: .moc,
                imsi: IMSI("46002\(String(1_000_000_000 + index).suffix(10))")!,
                imei: IMEI(tac: 35_000_000 + index % 1000, serial: index % 1_000_000),
                msisdn: PhoneNumber("8618\(100_000_000 + index)"),
                peer: PhoneNumber("8619\(100_000_000 + index)"),
                durationSeconds: 30,
                cell: CellID(rawValue: UInt32(1000 + index % 500)))
            return (record, Int32(1000 + index % 500))
        }
    }

    /// Feeds `records` in time order and checks the cap after every record.
    static func runChecked(_ records: [(CallRecord, Int32)], limits: StateLimits) throws
        -> DetectorRun
    {
        var detector = try CatPoolDetector(profile: .standard, limits: limits)
        var decisions: [ClusterDecision] = []
        var peakSIMs = 0
        for (record, location) in records.sorted(by: { $0.0.eventTime < $1.0.eventTime }) {
            // One record at a time: applied now, so the peak is the exact one.
            detector.feed(record, location: location, into: &decisions)
            peakSIMs = max(peakSIMs, detector.simCount)
        }
        detector.finish(into: &decisions)
        return DetectorRun(decisions: decisions, detector: detector, peakSIMs: peakSIMs)
    }

    @Test func evictsIdleSIMsAndStillFindsTheBoxAmongThem() throws {
        // 30,000 distinct SIMs over ten hours, eight times what the cap holds, but only 3,000
        // an hour: the idle ones can go. A box calls throughout.
        let box = CatPoolDetectorTests.boxRecords(channels: 8, minutes: 600)
        let noise = Self.oneOffCallers(30_000, minutes: 600)
        let capped = try Self.runChecked(box + noise, limits: Self.smallCap)
        let uncapped = try Self.runChecked(box + noise, limits: .standard)

        #expect(capped.peakSIMs <= Self.smallCap.maxSIMs)
        #expect(capped.detector.stateBytes <= Self.smallCap.maxBytes)
        #expect(capped.detector.evictedSIMs > 25_000)
        #expect(capped.detector.evictedSIMs < 30_000, "the box's SIMs stay")
        #expect(capped.detector.shedRecords == 0, "idle SIMs made room for every new one")
        #expect(uncapped.detector.evictedSIMs == 0)
        #expect(uncapped.peakSIMs == 30_008)
        #expect(capped.decisions.map(\.clusterID) == uncapped.decisions.map(\.clusterID))
        #expect(capped.decisions.map(\.kind) == uncapped.decisions.map(\.kind))
        #expect(capped.decisions.map(\.sims.count) == uncapped.decisions.map(\.sims.count))
        #expect(capped.decisions.first?.kind == .flagged)
    }

    @Test func shedsNewSIMsWhenEveryHeldOneIsLiveInTheWindow() throws {
        // 200,000 distinct SIMs in one hour: all of them live in the window at once, fifty
        // times the cap. The cap still holds; what does not fit is counted, not kept.
        let noise = Self.oneOffCallers(200_000, minutes: 60)
        let run = try Self.runChecked(noise, limits: Self.smallCap)
        #expect(run.peakSIMs <= Self.smallCap.maxSIMs)
        #expect(run.detector.shedRecords > 150_000)
        #expect(run.detector.stateBytes <= Self.smallCap.maxBytes)
        #expect(run.decisions.isEmpty)
    }

    /// A flood of new SIMs cannot blind the detector (#13 row 7).
    ///
    /// Exactly the row: 100,000 one-call SIMs in an hour, then an 8-SIM box six hours
    /// later, under `--max-state-mb 16`. Shed records once never moved event time, so the
    /// evicted SIMs' numbers never came free and the box's records were all shed.
    @Test func findsABoxThatComesSixHoursAfterAFloodOfNewSIMs() throws {
        let flood = Self.oneOffCallers(100_000, minutes: 60)
        let box = CatPoolDetectorTests.boxRecords(channels: 8, minutes: 180, offsetMinutes: 420)
        let capped = try Self.runChecked(flood + box, limits: StateLimits(maxBytes: 16 << 20))
        let uncapped = try Self.runChecked(flood + box, limits: .standard)

        #expect(capped.detector.shedRecords > 0, "the flood is more than the cap holds")
        #expect(capped.peakSIMs <= StateLimits(maxBytes: 16 << 20).maxSIMs)
        let boxIMSIs = Set(box.map(\.0.imsi))
        let flagged = { (run: [ClusterDecision]) in
            run.filter { $0.kind == .flagged }.map { Set($0.sims.map(\.imsi)) }
        }
        #expect(flagged(uncapped.decisions) == [boxIMSIs])
        #expect(flagged(capped.decisions) == [boxIMSIs], "the flood did not blind the detector")
    }

    /// The window's calls count under the cap (#13 row 8).
    ///
    /// In proportion: 10 SIMs placing 600,000 calls to distinct numbers in 30 minutes held
    /// every call in the window and its callee pairs, whatever the cap. Now the
    /// window's calls count under the cap: the flood's calls are shed, a box's are not.
    @Test func holdsTheWindowsCallsUnderTheCapAndStillFindsABox() throws {
        let limits = StateLimits(maxBytes: 16 << 20)
        let flood = (0..<600_000).map { index in
            let record = CallRecord(
                eventTime: EventTime(
                    millisecondsSinceEpoch: CatPoolDetectorTests.start + Int64(index) * 3),
                type: .moc, imsi: IMSI("46003000000000\(index % 10)")!,
                msisdn: PhoneNumber("86190000000\(index % 10)"),
                peer: PhoneNumber("86\(13_000_000_000 + index)"), durationSeconds: 0,
                cell: CellID(rawValue: 5))
            return (record, Int32(5))
        }
        let box = CatPoolDetectorTests.boxRecords(channels: 8, minutes: 120)
        var detector = try CatPoolDetector(profile: .standard, limits: limits)
        var decisions: [ClusterDecision] = []
        var peakBytes = 0
        for (record, location) in (flood + box).sorted(by: { $0.0.eventTime < $1.0.eventTime }) {
            detector.feed(record, location: location, into: &decisions)
            peakBytes = max(peakBytes, detector.stateBytes)
        }
        detector.finish(into: &decisions)
        #expect(peakBytes <= limits.maxBytes, "\(peakBytes) bytes")
        #expect(detector.shedCalls > 500_000, "the flood's calls are shed, and counted")
        let boxIMSIs = Set(box.map(\.0.imsi))
        #expect(
            decisions.contains { $0.kind == .flagged && Set($0.sims.map(\.imsi)) == boxIMSIs })
    }

    @Test func capsStateByDefaultAtTwoGibibytes() {
        #expect(StateLimits.standard.maxBytes == 2 << 30)
        #expect(StateLimits.standard.maxSIMs > 7_000_000, "seven cities' worth of SIMs")
    }
}
