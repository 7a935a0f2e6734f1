import CDRTestSupport
import Foundation
import Testing

/// `--max-state-mb` covers the window's calls and callee pairs (#13 row 8).
///
/// Ten SIMs placing 6 million calls to distinct numbers in 30 minutes took 588 MB under a
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
        func twoDigits(_ value: Int) -> String { String(100 + value).dropFirst().description }
        for index in 0..<calls {
            let milliseconds = index * 3  // 30 minutes from 2026-11-20T00:00:00Z
            let seconds = milliseconds / 1000
            text += "2026-11-20T00:\(twoDigits(seconds / 60)):\(twoDigits(seconds % 60))."
            text += "\(String(1000 + milliseconds % 1000).dropFirst())Z,MOC,"
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
}
