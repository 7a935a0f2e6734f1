import CDRTestSupport
import Foundation
import Testing

/// Floods against `--max-state-mb` through the binary (#13 rows 7 and 8).
///
/// The cap covers the window's calls and callee pairs: ten SIMs placing 6 million calls to distinct numbers in 30 minutes took 588 MB under a
/// 16 MB cap, with no warning. Here a tenth of that flood, through the binary: its peak
/// memory (measured by `/usr/bin/time`) stays near the cap instead of the 111 MB the same
/// flood takes uncapped, the shed calls are counted and a warning says so.
struct WindowCapTests {
    @Test func holdsAFloodOfCallsToDistinctNumbersUnderTheCap() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let calls = 600_000
        var text = "event_time,record_type,imsi,imei,msisdn,peer,duration_s,cell\n"
        text.reserveCapacity(calls * 90)
        for index in 0..<calls {
            text += Self.time(hour: 0, milliseconds: index * 3) + ",MOC,"  // 30 minutes
            text += "46003000000000\(index % 10),,86190000000\(index % 10),"
            text += "86\(13_000_000_000 + index),0,460-00-1-5\n"
        }
        try Data(text.utf8).write(to: folder.appendingPathComponent("flood.csv"))
        let result = try CatPoolBinary.shell(
            "/usr/bin/time -f 'peak %M KB' -o peak.txt '\(CatPoolBinary.url.path)' detect "
                + "--max-state-mb 16 --stats stats.json flood.csv >/dev/null",
            in: folder, timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains(
                "warning: detector state is full (--max-state-mb 16) of calls in the window"),
            "\(result.stderr)")
        let peak = try String(
            contentsOf: folder.appendingPathComponent("peak.txt"), encoding: .utf8)
        let kilobytes = try #require(
            peak.split(separator: "\n").last { $0.hasPrefix("peak ") }
                .flatMap { Int($0.dropFirst(5).dropLast(3)) })
        #expect(kilobytes < 80_000, "peak \(kilobytes) KB")
        let stats = try JSONSerialization.jsonObject(
            with: Data(contentsOf: folder.appendingPathComponent("stats.json")))
        let detector = try #require((stats as? [String: Any])?["detector_state"] as? [String: Any])
        let shed = try #require(detector["shed_records"] as? Int)
        #expect(shed > calls * 9 / 10, "the flood's calls are shed and counted: \(shed)")
        let peakBytes = try #require(detector["peak_bytes"] as? Int)
        #expect(peakBytes <= 16 << 20, "the detector's own count of its state: \(peakBytes)")
    }

    /// A flood of new SIMs cannot blind the detector (#13 row 7), through the binary.
    ///
    /// 100,000 one-call SIMs in an hour, then an 8-SIM box six hours later: under
    /// `--max-state-mb 16` the box is flagged as without the cap.
    @Test func flagsABoxThatComesSixHoursAfterAFloodOfNewSIMs() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var text = "event_time,record_type,imsi,imei,msisdn,peer,duration_s,cell\n"
        // 2026-11-20 from 00:00: the flood, 100,000 SIMs each calling once, 36 ms apart.
        for index in 0..<100_000 {
            let milliseconds = index * 36
            text += Self.time(hour: 0, milliseconds: milliseconds) + ",MOC,"
            text += "46002\(1_000_000_000 + index),,8618\(100_000_000 + index),"
            text += "8619\(100_000_000 + index),30,460-00-2-\(index % 500)\n"
        }
        // From 07:00, three hours of a box: 8 channels at one cell, a call each every two
        // minutes to a new number, one in three answered for 40 s.
        let boxIMSIs = (0..<8).map { "4600100000\(10_000 + $0)" }
        var calls: [(Int, String)] = []
        for channel in 0..<8 {
            for call in 0..<90 {
                let milliseconds = (channel * 7 + call * 120) * 1000
                calls.append(
                    (
                        milliseconds,
                        "\(boxIMSIs[channel]),8611720350000\(channel)0,861700\(1_000_000 + channel),"
                            + "8615\(101_000_000 + channel * 10_000 + call),"
                            + "\(call % 3 == 0 ? 40 : 0),460-00-9-7\n"
                    ))
            }
        }
        for (milliseconds, rest) in calls.sorted(by: { $0.0 < $1.0 }) {
            text += Self.time(hour: 7, milliseconds: milliseconds) + ",MOC," + rest
        }
        try Data(text.utf8).write(to: folder.appendingPathComponent("flood-then-box.csv"))

        let capped = try CatPoolBinary.run(
            ["detect", "--max-state-mb", "16", "flood-then-box.csv"], in: folder, timeout: 300)
        let uncapped = try CatPoolBinary.run(
            ["detect", "flood-then-box.csv"], in: folder, timeout: 300)
        #expect(capped.status == 0 && uncapped.status == 0, "\(capped.stderr)")
        #expect(capped.stderr.contains("shed by the state cap"), "\(capped.stderr)")
        for run in [capped, uncapped] {
            let flagged = run.stdout.split(separator: "\n").filter {
                $0.contains("\"event\":\"flagged\"")
            }
            #expect(flagged.count == 1, "\(run.stdout)")
            #expect(boxIMSIs.allSatisfy { flagged.first?.contains("\"\($0)\"") == true })
        }
    }

    /// `2026-11-20THH:MM:SS.mmmZ` for `milliseconds` after `hour` o'clock (the same day).
    static func time(hour: Int, milliseconds: Int) -> String {
        func two(_ value: Int) -> String { String(String(100 + value).dropFirst()) }
        let seconds = hour * 3600 + milliseconds / 1000
        return "2026-11-20T\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))."
            + String(String(1000 + milliseconds % 1000).dropFirst()) + "Z"
    }
}
