import CDRTestSupport
import Foundation
import Testing

/// `catpool report` opened in a real browser (headless Chromium): every cluster and the map
/// are in the rendered page, nothing is fetched, and a screenshot is kept for a person at
/// `.build/report-test/report.png` (issue #12).
///
/// Without Chromium the test is skipped locally (`apt-get install -y chromium`); CI installs
/// it and sets `CI=true`, and there its absence fails the test.
struct BrowserReportTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let folder = TestPaths.repositoryRoot.appendingPathComponent(".build/report-test")

    /// A simulated town of four boxes (one mobile) detected with its cell table, the report
    /// made with the run's statistics and evidence lines.
    static func makeReport() throws -> (decisions: [[String: Any]], html: String) {
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let simulate = try CatPoolBinary.run(
            [
                "simulate", "--seed", "12", "--subscribers", "3000", "--hours", "6", "--boxes", "4",
                "--box-kinds", "standard,mobile,sim-bank,sectors", "--look-alikes", "0",
                "--format", "csv", "--out", "day.csv", "--cells", "cells.csv",
            ], in: folder, timeout: 120)
        #expect(simulate.status == 0, "\(simulate.stderr)")
        let detect = try CatPoolBinary.run(
            [
                "detect", "-q", "--cells", "cells.csv", "--stats", "stats.json", "--evidence",
                "evidence.jsonl", "day.csv",
            ], in: folder, timeout: 120)
        #expect(detect.status == 0, "\(detect.stderr)")
        try Data(detect.stdout.utf8).write(to: folder.appendingPathComponent("decisions.jsonl"))
        let decisions = try detect.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let report = try CatPoolBinary.run(
            [
                "report", "--cells", "cells.csv", "--stats", "stats.json", "--evidence",
                "evidence.jsonl", "decisions.jsonl",
            ], in: folder, timeout: 120)
        #expect(report.status == 0, "\(report.stderr)")
        try Data(report.stdout.utf8).write(to: folder.appendingPathComponent("report.html"))
        return (decisions, report.stdout)
    }

    /// The URLs a page asked for, from Chromium's network log: requests whose initiator is
    /// the page (a `file:` page's origin is `null`), leaving out the browser's own
    /// background requests (initiator "not an origin") and `file:`/`data:` URLs.
    static func pageRequests(_ chromium: String, _ page: URL, extraFlags: String = "--dump-dom")
        throws
        -> [String]
    {
        let netLog = folder.appendingPathComponent(page.lastPathComponent + ".net-log.json")
        let render = try CatPoolBinary.shell(
            "\(chromium) \(flags) \(extraFlags) --log-net-log='\(netLog.path)' "
                + "'file://\(page.path)' 2>/dev/null",
            in: folder, timeout: 120)
        #expect(render.status == 0)
        let log = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: netLog)) as? [String: Any])
        let events = try #require(log["events"] as? [[String: Any]])
        var urls: Set<String> = []
        for event in events {
            guard let parameters = event["params"] as? [String: Any],
                let url = parameters["url"] as? String,
                let initiator = parameters["initiator"] as? String,
                initiator != "not an origin",
                !url.hasPrefix("file:"), !url.hasPrefix("data:")
            else { continue }
            urls.insert(url)
        }
        return urls.sorted()
    }

    static let flags =
        "--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run "
        + "--disable-background-networking --disable-component-update"

    @Test(
        .enabled(
            if: chromium != nil || isCI,
            "chromium is not installed (apt-get install -y chromium); CI installs it and runs this")
    )
    func reportRendersEveryClusterAndTheMapAndFetchesNothing() throws {
        guard let chromium = Self.chromium else {
            Issue.record("CI=true but chromium is not installed: .ci/run must install it")
            return
        }
        let (decisions, html) = try Self.makeReport()
        let ids = Set(decisions.compactMap { $0["cluster_id"] as? String })
        #expect(ids.count >= 3, "the simulated town should give several clusters")

        // What the browser built: dump the DOM after it has rendered the page.
        let page = Self.folder.appendingPathComponent("report.html")
        let dump = try CatPoolBinary.shell(
            "\(chromium) \(Self.flags) --dump-dom 'file://\(page.path)' 2>/dev/null",
            in: Self.folder, timeout: 120)
        #expect(dump.status == 0)
        let dom = dump.stdout
        #expect(dom.contains("<svg id=\"map\""), "the map is in the rendered page")
        for id in ids {
            #expect(dom.contains("id=\"cluster-\(id)\""), "card of \(id)")
            #expect(dom.contains("id=\"evidence-\(id)\""), "evidence of \(id)")
            #expect(dom.contains("href=\"#evidence-\(id)\""), "link to the evidence of \(id)")
        }
        let cells = try String(
            contentsOf: Self.folder.appendingPathComponent("cells.csv"), encoding: .utf8)
        let sites = Set(
            cells.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[1] })
        let background = try #require(dom.range(of: "<g class=\"cells\">"))
        let backgroundEnd = try #require(
            dom.range(of: "</g>", range: background.upperBound..<dom.endIndex))
        let points = dom[background.upperBound..<backgroundEnd.lowerBound]
        #expect(points.components(separatedBy: "<circle").count - 1 == sites.count)

        // Nothing to fetch: no URL that leaves the page, and a policy that forbids any.
        #expect(
            dom.contains(
                "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\""))
        for pattern in [
            #"(src|href|action|poster|data)\s*=\s*"?\s*(https?:|//|ftp:|file:)"#,
            #"url\("#, #"@import"#, #"<(script|link|iframe|object|embed|img)\b"#,
        ] {
            #expect(
                html.range(of: pattern, options: [.regularExpression, .caseInsensitive]) == nil)
            #expect(dom.range(of: pattern, options: [.regularExpression, .caseInsensitive]) == nil)
        }

        // The browser's own record of what the page asked for: its network log.
        let shot = Self.folder.appendingPathComponent("report.png")
        let fetched = try Self.pageRequests(
            chromium, page, extraFlags: "--window-size=1280,2600 --screenshot='\(shot.path)'")
        #expect(fetched.isEmpty, "the page requested \(fetched)")
        // The same check sees a page that does fetch (so it can fail).
        let leaky = Self.folder.appendingPathComponent("leaky.html")
        try Data(#"<!DOCTYPE html><img src="http://example.invalid/x.png">"#.utf8).write(to: leaky)
        #expect(try Self.pageRequests(chromium, leaky) == ["http://example.invalid/x.png"])
        let size = try FileManager.default.attributesOfItem(atPath: shot.path)[.size] as? Int
        #expect((size ?? 0) > 20_000, "a screenshot of the page at \(shot.path)")
    }
}
