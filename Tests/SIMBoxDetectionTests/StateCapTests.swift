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
        -> (decisions: [ClusterDecision], detector: CatPoolDetector, peakSIMs: Int)
    {
        var detector = try CatPoolDetector(profile: .standard, limits: limits)
        var decisions: [ClusterDecision] = []
        var peakSIMs = 0
        for (record, location) in records.sorted(by: { $0.0.eventTime < $1.0.eventTime }) {
            detector.feed(record, location: location, into: &decisions)
            peakSIMs = max(peakSIMs, detector.simCount)
        }
        detector.finish(into: &decisions)
        return (decisions, detector, peakSIMs)
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

    @Test func capsStateByDefaultAtTwoGibibytes() {
        #expect(StateLimits.standard.maxBytes == 2 << 30)
        #expect(StateLimits.standard.maxSIMs > 7_000_000, "seven cities' worth of SIMs")
    }
}
