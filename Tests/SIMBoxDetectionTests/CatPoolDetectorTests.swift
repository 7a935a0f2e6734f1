import CDRRecords
import CDRSimulation
import SIMBoxDetection
import Testing

struct CatPoolDetectorTests {
    static let start: Int64 = 1_795_132_800_000  // 2026-11-20T00:00:00Z

    /// A box: `channels` SIMs on one cell, each dialling a new number every `gap` seconds.
    static func boxRecords(
        channels: Int, minutes: Int, gapSeconds: Int = 120, firstSIM: Int = 0, location: Int32 = 7,
        imei: (Int) -> IMEI? = { IMEI(tac: 86_117_203, serial: 500_000 + $0) },
        offsetMinutes: Int = 0,
        answeredEvery: Int = 3, duration: Int32 = 40, repeatCallees: Bool = false
    ) -> [(CallRecord, Int32)] {
        var records: [(CallRecord, Int32)] = []
        for channel in 0..<channels {
            var second = channel * 7
            var call = 0
            while second < minutes * 60 {
                let peerNumber =
                    repeatCallees ? 100 + call % 5 : 1_000_000 + channel * 10_000 + call
                let record = CallRecord(
                    eventTime: EventTime(
                        millisecondsSinceEpoch: start + Int64(offsetMinutes * 60 + second) * 1000),
                    type: .moc,
                    imsi: IMSI("4600100000\(String(10_000 + firstSIM + channel).suffix(5))")!,
                    imei: imei(channel),
                    msisdn: PhoneNumber("861700\(1_000_000 + firstSIM + channel)"),
                    peer: PhoneNumber("8615\(100_000_000 + peerNumber)"),
                    durationSeconds: call % answeredEvery == 0 ? duration : 0,
                    cell: CellID(rawValue: UInt32(location)))
                records.append((record, location))
                second += gapSeconds
                call += 1
            }
        }
        return records.sorted { $0.0.eventTime < $1.0.eventTime }
    }

    /// A data session elsewhere at `start`: the feed began before the records that follow.
    static let feedStart: (CallRecord, Int32) = (
        CallRecord(
            eventTime: EventTime(millisecondsSinceEpoch: start), type: .data,
            imsi: IMSI("460019999999999")!, imei: nil, msisdn: nil, peer: nil,
            durationSeconds: 60, cell: CellID(rawValue: 99)),
        99
    )

    static func run(_ records: [(CallRecord, Int32)], profile: DetectionProfile = .standard) throws
        -> DetectorRun
    {
        var detector = try CatPoolDetector(profile: profile)
        var decisions: [ClusterDecision] = []
        for (record, location) in records {
            detector.feed(record, location: location, into: &decisions)
        }
        detector.finish(into: &decisions)
        return DetectorRun(decisions: decisions, detector: detector)
    }

    @Test func flagsAStandardBoxWithinTenMinutes() throws {
        // 8 channels at 30 calls per channel-hour.
        let decisions = try Self.run(Self.boxRecords(channels: 8, minutes: 90)).decisions
        let flagged = try #require(decisions.first { $0.kind == .flagged })
        #expect(flagged.windowEnd.millisecondsSinceEpoch - Self.start <= 10 * 60_000)
        #expect(Set(decisions.map(\.clusterID)) == [1])
        #expect(decisions.last?.sims.count == 8)
        #expect(
            decisions.last?.devices == [Array(0..<8)],
            "near-serial IMEIs of one TAC make one device")
        #expect(flagged.reasons.contains { $0.code == "outbound_share" && $0.value == 1 })
        #expect(flagged.score >= DetectionProfile.standard.scoreThreshold)
    }

    @Test func groupsDevicesBySharedAndNearIMEIs() throws {
        // Two boxes on one cell: channels 0–3 serial IMEIs of one TAC, 4–7 one shared IMEI of another.
        let imei: (Int) -> IMEI? = {
            $0 < 4 ? IMEI(tac: 86_117_203, serial: 10 + $0) : IMEI(tac: 35_693_803, serial: 900_000)
        }
        let decisions = try Self.run(Self.boxRecords(channels: 8, minutes: 40, imei: imei))
            .decisions
        #expect(decisions.last?.devices == [[0, 1, 2, 3], [4, 5, 6, 7]])
    }

    @Test func linksSIMsThatCallEachOther() throws {
        // Four SIMs with unrelated IMEIs: one device each, until SIM 0 calls SIM 1. They start
        // together 20 minutes into the feed (at its very start, when they came is unknown).
        let unrelated: (Int) -> IMEI? = { IMEI(tac: 35_000_000 + $0 * 1_111_111, serial: 7) }
        var records =
            [Self.feedStart]
            + Self.boxRecords(channels: 4, minutes: 40, imei: unrelated, offsetMinutes: 20)
        #expect(try Self.run(records).decisions.last?.devices == [[0], [1], [2], [3]])
        let caller = records.first { $0.0.imsi.description.hasSuffix("10000") }?.0
        let callee = records.first { $0.0.imsi.description.hasSuffix("10001") }?.0
        let sibling = try #require(caller)
        var inbound = try #require(callee)
        inbound.type = .mtc
        inbound.peer = sibling.msisdn
        inbound.eventTime = EventTime(millisecondsSinceEpoch: Self.start + 23 * 60_000)
        records.append((inbound, 7))
        records.sort { $0.0.eventTime < $1.0.eventTime }
        let decisions = try Self.run(records).decisions
        #expect(decisions.last?.devices == [[0, 1], [2], [3]])
        #expect(decisions.last?.statistics.callsBetweenSIMs == 1)
        #expect(
            decisions.last?.statistics.callsIn == 0, "a call from a sibling is not inbound traffic")
    }

    /// A batch is applied with the tables of later records prefetched meanwhile: its
    /// decisions are those of feeding each record alone, in the same order, however the
    /// records are cut into batches.
    @Test func batchesDecideAsRecordsFedOneByOne() throws {
        var records = Self.boxRecords(channels: 8, minutes: 120)
        records += Self.boxRecords(
            channels: 8, minutes: 120, firstSIM: 100, location: 9, answeredEvery: 1,
            duration: 200, repeatCallees: true)
        records.sort { $0.0.eventTime < $1.0.eventTime }
        var batched = try CatPoolDetector(profile: .standard)
        var single = try CatPoolDetector(profile: .standard)
        var batchedDecisions: [ClusterDecision] = []
        var singleDecisions: [ClusterDecision] = []
        let located = records.map { LocatedRecord(record: $0.0, location: $0.1) }
        var random = SimulationRandom(seed: 5, stream: 1)
        var start = 0
        while start < located.count {
            // Batches of 1 to 40 records: shorter and longer than the lookahead.
            let end = min(located.count, start + 1 + random.int(0..<40))
            located[start..<end].withUnsafeBufferPointer {
                batched.feed($0, into: &batchedDecisions)
            }
            start = end
        }
        for (record, location) in records {
            single.feed(record, location: location, into: &singleDecisions)
        }
        batched.finish(into: &batchedDecisions)
        single.finish(into: &singleDecisions)
        #expect(!batchedDecisions.isEmpty)
        #expect("\(batchedDecisions)" == "\(singleDecisions)")
        #expect(batched.lateRecords == single.lateRecords)
    }

    @Test func leavesBusyButHumanTrafficAlone() throws {
        // Eight agents on one cell, calls answered and long, to five recurring customers.
        let agents = Self.boxRecords(
            channels: 8, minutes: 120, answeredEvery: 1, duration: 200, repeatCallees: true)
        #expect(try Self.run(agents).decisions.isEmpty)
        // One SIM dialling hard is a telemarketer, not a cluster.
        #expect(
            try Self.run(Self.boxRecords(channels: 1, minutes: 120, gapSeconds: 60)).decisions
                .isEmpty)
        // Three SIMs are below the standard profile's four, but the sensitive profile flags them.
        let small = Self.boxRecords(channels: 3, minutes: 60)
        #expect(try Self.run(small).decisions.isEmpty)
        #expect(try Self.run(small, profile: .sensitive).decisions.contains { $0.kind == .flagged })
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func disorderWithinTheLatenessGivesTheSameDecisions(seed: UInt64) throws {
        let records = Self.boxRecords(channels: 8, minutes: 150)
        var random = SimulationRandom(seed: seed)
        let shuffled = records.map {
            ($0, $0.0.eventTime.millisecondsSinceEpoch + Int64(random.int(0..<600_000)))
        }
        .sorted { $0.1 < $1.1 }.map(\.0)
        let ordered = try Self.run(records)
        let disordered = try Self.run(shuffled)
        #expect(disordered.detector.lateRecords == 0)
        #expect(disordered.decisions.map(\.kind) == ordered.decisions.map(\.kind))
        #expect(disordered.decisions.map(\.windowEnd) == ordered.decisions.map(\.windowEnd))
        #expect(disordered.decisions.map(\.score) == ordered.decisions.map(\.score))
    }

    @Test func countsRecordsBeyondTheLatenessAsLate() throws {
        var records = Self.boxRecords(channels: 8, minutes: 150)
        let old = records[10].0
        records.append((old, 7))  // two hours late: no open window holds it
        #expect(try Self.run(records).detector.lateRecords == 1)
    }

    @Test func keepsTheIdentityOfAMovingBoxAndClosesItAfterSilence() throws {
        let first = Self.boxRecords(channels: 8, minutes: 40, location: 1)
        let second = Self.boxRecords(channels: 8, minutes: 40, location: 2, offsetMinutes: 40)
        // Ordinary traffic elsewhere, two hours on: event time moves past a silent window.
        // (At the end of input alone nothing closes: there is no evidence of silence.)
        let later = Self.boxRecords(
            channels: 1, minutes: 200, gapSeconds: 600, firstSIM: 50, location: 9, answeredEvery: 1,
            duration: 300)
        let decisions = try Self.run(
            (first + second + later).sorted { $0.0.eventTime < $1.0.eventTime }
        ).decisions
        #expect(Set(decisions.map(\.clusterID)) == [1])
        #expect(decisions.contains { $0.kind == .updated && $0.location == 2 })
        #expect(decisions.last?.kind == .closed)
        // Closed a whole window after the last call.
        let lastCall = (first + second).map(\.0.eventTime.millisecondsSinceEpoch).max() ?? 0
        #expect((decisions.last?.windowEnd.millisecondsSinceEpoch ?? 0) - lastCall >= 60 * 60_000)
    }
}

struct DetectionProfileTests {
    @Test func printsAProfileThatReadsBackTheSame() throws {
        for profile in [DetectionProfile.standard, .sensitive] {
            #expect(try DetectionProfile(text: profile.text) == profile)
        }
    }

    @Test func readsOverridesAndRefusesMistakes() throws {
        let profile = try DetectionProfile(
            text: "# stricter\nmin_sims = 6\n\nscore_threshold=0.7  # flag less\n")
        #expect(
            profile.minSIMs == 6 && profile.scoreThreshold == 0.7 && profile.windowMinutes == 60)
        #expect(profile.severity(of: 0.71) == .low && profile.severity(of: 0.75) == .medium)
        #expect(profile.severity(of: 0.8) == .high)
        #expect(
            throws: ProfileError(
                line: 1, reason: "expected NAME = VALUE with a known name, got \"min_simz = 6\"")
        ) {
            try DetectionProfile(text: "min_simz = 6")
        }
        #expect(throws: ProfileError.self) { try DetectionProfile(text: "min_sims = many") }
        #expect(throws: ProfileError.self) {
            try DetectionProfile(text: "window_minutes = 61\nhop_minutes = 2")
        }
        #expect(throws: ProfileError.self, "tiers out of order") {
            try DetectionProfile(text: "score_threshold = 0.9")
        }
    }
}

/// What a detector decided, and the detector after (noncopyable, so not in a tuple).
struct DetectorRun: ~Copyable {
    var decisions: [ClusterDecision]
    var detector: CatPoolDetector
    /// The most SIMs held at once, when measured.
    var peakSIMs = 0
}
