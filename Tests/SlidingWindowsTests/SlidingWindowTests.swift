import CDRSimulation
import SlidingWindows
import Testing

struct SlidingWindowTests {
    /// What a consumer sees: the events inside the window at each evaluation.
    struct Recorder {
        var inside: [Int: Int] = [:]  // event id → times entered minus times left
        var evaluations: [(end: Int64, ids: [Int])] = []
        var entered = Set<Int>()
        var left = Set<Int>()

        mutating func apply(_ step: SlidingWindow<Int>.Step) {
            switch step {
            case .enter(let id):
                #expect(entered.insert(id).inserted, "event \(id) entered twice")
                inside[id, default: 0] += 1
            case .leave(let id):
                #expect(entered.contains(id), "event \(id) left before it entered")
                #expect(left.insert(id).inserted, "event \(id) left twice")
                inside[id, default: 0] -= 1
                if inside[id] == 0 { inside[id] = nil }
            case .evaluate(let end):
                evaluations.append((end, inside.keys.sorted()))
            }
        }
    }

    static func configuration(width: Int64, hop: Int64, lateness: Int64) -> WindowConfiguration {
        // The arguments are valid by construction in these tests.
        (try? WindowConfiguration(
            widthMilliseconds: width, hopMilliseconds: hop, latenessMilliseconds: lateness))
            ?? .standard
    }

    static func run(_ events: [(id: Int, time: Int64)], _ configuration: WindowConfiguration) -> (
        Recorder, [SlidingWindow<Int>.Placement], SlidingWindow<Int>
    ) {
        var window = SlidingWindow<Int>(configuration: configuration)
        var recorder = Recorder()
        var placements: [SlidingWindow<Int>.Placement] = []
        for event in events {
            placements.append(window.insert(event.id, at: event.time) { recorder.apply($0) })
        }
        window.finish { recorder.apply($0) }
        return (recorder, placements, window)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func disorderWithinTheLatenessChangesNothing(seed: UInt64) {
        var random = SimulationRandom(seed: seed)
        let configuration = Self.configuration(width: 3_600_000, hop: 60_000, lateness: 600_000)
        // Bursty traffic over six hours, with a quiet hour in the middle.
        var times: [Int64] = []
        var clock: Int64 = 1_795_104_000_000
        while times.count < 4000 {
            clock += Int64(random.exponential(mean: times.count % 1000 < 10 ? 600_000 : 4_000))
            times.append(clock)
        }
        let ordered = times.enumerated().map { (id: $0.offset, time: $0.element) }
        // Arrival = time + up to 10 minutes: the lateness.
        let shuffled = ordered.map { ($0, $0.time + Int64(random.int(0..<600_001))) }
            .sorted { ($0.1, $0.0.id) < ($1.1, $1.0.id) }.map(\.0)
        let inOrder = Self.run(ordered, configuration).0
        let (disordered, placements, window) = Self.run(shuffled, configuration)
        #expect(!placements.contains(.late) && window.lateCount == 0)
        #expect(disordered.evaluations.map(\.end) == inOrder.evaluations.map(\.end))
        #expect(disordered.evaluations.map(\.ids) == inOrder.evaluations.map(\.ids))
        // And each evaluation holds exactly the events in [end − width, end).
        for evaluation in disordered.evaluations {
            let expected = ordered.filter {
                $0.time >= evaluation.end - 3_600_000 && $0.time < evaluation.end
            }.map(\.id)
            #expect(evaluation.ids == expected.sorted(), "window ending \(evaluation.end)")
        }
    }

    @Test func windowsAreHalfOpen() {
        let configuration = Self.configuration(width: 10, hop: 5, lateness: 0)
        let (recorder, _, _) = Self.run(
            [(1, 0), (2, 4), (3, 5), (4, 10), (5, 14), (6, 30)], configuration)
        let windows = Dictionary(
            uniqueKeysWithValues: recorder.evaluations.map { ($0.end, $0.ids) })
        #expect(windows[5] == [1, 2])  // [-5, 5)
        #expect(windows[10] == [1, 2, 3])  // [0, 10): 0 in, 10 out
        #expect(windows[15] == [3, 4, 5])  // [5, 15)
        #expect(windows[20] == [4, 5])  // [10, 20)
        #expect(windows[35] == [6])  // after the quiet stretch
        #expect(recorder.evaluations.map(\.end) == recorder.evaluations.map(\.end).sorted())
    }

    @Test func countsEventsNoOpenWindowHoldsAsLate() {
        let configuration = Self.configuration(width: 100, hop: 10, lateness: 20)
        var window = SlidingWindow<Int>(configuration: configuration)
        var recorder = Recorder()
        for (id, time) in [(1, Int64(1000)), (2, 1300)] {
            window.insert(id, at: time) { recorder.apply($0) }
        }
        // The watermark is 1280; windows up to 1280 were evaluated; open windows start at 1190.
        #expect(window.insert(3, at: 1185) { recorder.apply($0) } == .late)
        #expect(window.insert(4, at: 1195) { recorder.apply($0) } == .current)
        #expect(window.insert(5, at: 1290) { recorder.apply($0) } == .pending)
        #expect(window.lateCount == 1)
        #expect(
            recorder.entered.contains(4) && !recorder.entered.contains(3)
                && !recorder.entered.contains(5))
        window.finish { recorder.apply($0) }
        let last = recorder.evaluations.last
        #expect(last?.end == 1310 && last?.ids == [2, 5])
        #expect(recorder.evaluations.contains { $0.end == 1290 && $0.ids == [4] })
    }

    @Test func skipsLongQuietStretchesInOneStep() {
        let configuration = Self.configuration(width: 3_600_000, hop: 60_000, lateness: 0)
        let (recorder, _, window) = Self.run([(1, 0), (2, 30 * 86_400_000)], configuration)
        #expect(recorder.evaluations.count < 200)
        #expect(recorder.left == [1])
        #expect(window.liveCount == 1)
    }

    @Test func refusesAWidthThatIsNotAMultipleOfTheHop() {
        #expect(throws: WindowConfiguration.Invalid.self) {
            try WindowConfiguration(
                widthMilliseconds: 100, hopMilliseconds: 30, latenessMilliseconds: 0)
        }
        #expect(throws: WindowConfiguration.Invalid.self) {
            try WindowConfiguration(
                widthMilliseconds: 100, hopMilliseconds: 10, latenessMilliseconds: -1)
        }
    }
}
