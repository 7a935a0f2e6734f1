import CDRRecords
import CDRSimulation
import Testing

@testable import CDRPipeline

/// The evidence stage's chunked text store against the obvious model: a dictionary of the
/// lines not yet released.
struct TextArenaTests {
    @Test(arguments: [1, 2, 3])
    func holdsEveryUnreleasedLineOnRandomAppendsAndReleases(seed: UInt64) {
        var random = SimulationRandom(seed: seed)
        let arena = TextArena(capacity: 4 << 20, longestLine: 300_000)
        var model: [(offset: Int, bytes: [UInt8])] = []
        var released = 0
        let pattern = (0..<300_256).map { UInt8(truncatingIfNeeded: $0) }
        for step in 0..<3_000 {
            if random.next() % 3 == 0, released < model.count {
                // Release through the end of some line not yet released.
                released += 1 + Int(random.next() % UInt64(min(8, model.count - released)))
                let last = model[released - 1]
                arena.release(through: last.offset + last.bytes.count)
            } else {
                let length =
                    random.next() % 10 == 0
                    ? Int(random.next() % 300_000) : Int(random.next() % 200)
                // Byte i is i + step, cut from one pattern (built byte by byte for each line,
                // this test took 20 s of a debug-build run).
                let bytes = Array(pattern[step % 256..<step % 256 + length])
                let offset = bytes.withUnsafeBytes { arena.append($0) }
                if let offset {
                    model.append((offset, bytes))
                } else {
                    // Full only when the live lines really need the whole capacity.
                    let live = model[released...].reduce(0) { $0 + $1.bytes.count }
                    #expect(live + length > (4 << 20) - 2 * 300_000 - (1 << 20))
                    #expect(arena.bytesHeld == 4 << 20)
                }
            }
            #expect(arena.bytesHeld <= 4 << 20)
        }
        for line in model[released...] {
            let stored = Array(arena.bytes(at: line.offset, count: line.bytes.count))
            #expect(stored == line.bytes)
        }
        // Releasing everything gives every chunk back but the one being filled.
        if let last = model.last { arena.release(through: last.offset + last.bytes.count) }
        #expect(arena.bytesHeld <= 1 << 20)
    }
}

/// The evidence stage's bounds, without a detector: nothing released before a watermark,
/// and past the arena's bound the oldest records released early and counted.
struct EvidenceStageBoundsTests {
    @Test func holdsItsBoundByReleasingTheOldestEarly() throws {
        var stage = EvidenceStage(
            profile: .standard, longestLine: 1_000, maxArenaBytes: 4 << 20)
        stage.beginInput(named: "a.csv")
        var output: [UInt8] = []
        let imsi = try #require(IMSI("460010000000001"))
        let line = Array(repeating: UInt8(ascii: "x"), count: 100)
        // 200,000 records of 100 bytes: 20 MB through a 4 MiB arena (the ring grows past
        // its first 65,536 slots on the way).
        for number in 2..<200_002 {
            line.withUnsafeBytes {
                stage.retain(
                    imsi: imsi, time: EventTime(millisecondsSinceEpoch: Int64(number)),
                    line: number, text: $0, into: &output)
            }
        }
        #expect(stage.forcedReleases > 100_000)
        #expect(stage.peakArenaBytes <= 4 << 20)
        // No cluster names the SIM, so nothing is written, early or at the end.
        stage.release(before: EventTime(millisecondsSinceEpoch: 1 << 40), into: &output)
        stage.releaseAll(into: &output)
        #expect(output.isEmpty && stage.linesWritten == 0)
    }
}
