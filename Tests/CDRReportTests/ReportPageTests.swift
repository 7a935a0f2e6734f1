import CDRPipeline
import Foundation
import Testing

@testable import CDRReport

/// The page built from decisions: every value escaped, nothing fetched, every cluster shown.
struct ReportPageTests {
    /// A decision line as `catpool detect` writes it, with the fields a test varies.
    static func decision(
        event: String = "flagged", id: String = "cp-1", location: String = "S00001",
        cells: [String] = ["460-00-4000-10010"], lat: Double? = 31.2169, lon: Double? = 121.4631,
        at minute: Int = 60, sims: [String] = ["460010000000001", "460010000000002"],
        score: Double = 0.9, severity: String? = "high"
    ) -> String {
        func time(_ minutes: Int) -> String {
            let hour = minutes / 60
            let minute = minutes % 60
            return String(format: "2026-11-20T%02d:%02d:00Z", hour, minute)
        }
        func json(_ value: String) -> String {
            String(decoding: try! JSONEncoder().encode(value), as: UTF8.self)
        }
        var fields = [
            "\"event\":\(json(event))", "\"cluster_id\":\(json(id))",
            "\"location\":\(json(location))",
            "\"cells\":[\(cells.map(json).joined(separator: ","))]",
        ]
        if let lat, let lon {
            fields += ["\"site\":\(json(location))", "\"lat\":\(lat)", "\"lon\":\(lon)"]
        }
        fields += [
            "\"window_start\":\(json(time(minute - 60)))", "\"window_end\":\(json(time(minute)))",
            "\"detected_at\":\(json(time(minute)))",
            "\"sims\":[\(sims.map(json).joined(separator: ","))]", "\"msisdns\":[]",
            "\"imeis\":[\"356938033882078\"]",
            "\"devices\":[{\"imeis\":[\"356938033882078\"],\"sims\":[\(sims.map(json).joined(separator: ","))]}]",
            "\"stats\":{\"calls_out\":13,\"calls_per_minute\":3.237}",
            "\"lifetime\":{\"first_seen\":\(json(time(minute - 5))),\"last_seen\":\(json(time(minute))),\"calls_out\":13,\"sims\":\(sims.count),\"peak_sims\":\(sims.count)}",
            "\"score\":\(score)",
        ]
        if let severity { fields.append("\"severity\":\(json(severity))") }
        fields.append("\"reasons\":[{\"code\":\"sims\",\"value\":\(sims.count),\"threshold\":4}]")
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func page(
        _ lines: [String], cells: String? = nil, evidence: [EvidenceLine]? = nil
    ) throws -> String {
        let decisions = try readJSONLines(
            ReportDecision.self, from: Array(lines.joined(separator: "\n").utf8), source: "test")
        let table = try cells.map { try CellTable(bytes: Array($0.utf8)) }
        return ReportPage(decisions: decisions, cells: table, evidence: evidence).render()
    }

    @Test func escapesEveryValueFromTheDecisions() throws {
        let hostile = "cp-9\"><script>alert(1)</script>&amp;'"
        let html = try Self.page([
            Self.decision(
                id: hostile, location: "<img src=x onerror=alert(2)>",
                cells: ["c&lt;1", "\"c2\""], sims: ["<b>1</b>"])
        ])
        #expect(!html.contains("<script>"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<b>1"))
        // The text shows the value's own characters: `&amp;` in a value stays visible.
        #expect(html.contains("cp-9&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;"))
        #expect(html.contains("c&amp;lt;1"))
        // In an attribute, quotes cannot end it.
        #expect(html.contains("data-cluster=\"cp-9&quot;&gt;&lt;script&gt;"))
        #expect(html.contains("id=\"cluster-cp-9_22_3E_3Cscript_3Ealert_281_29"))
    }

    @Test func evidenceTextIsEscapedToo() throws {
        let line = EvidenceLine(
            clusterID: "cp-1", input: "day<1>.csv", line: 7, text: "a,</code><script>x</script>")
        let html = try Self.page([Self.decision()], evidence: [line])
        #expect(!html.contains("<script>"))
        #expect(html.contains("a,&lt;/code&gt;&lt;script&gt;x&lt;/script&gt;"))
        #expect(html.contains("href=\"#evidence-cp-1\""))
        #expect(html.contains("id=\"evidence-cp-1\""))
        #expect(html.contains("1 evidence line →"))
    }

    @Test func pageLoadsNothingAndForbidsLoading() throws {
        let html = try Self.page(
            [Self.decision(), Self.decision(id: "cp-2", at: 90)],
            cells: "cell,site,lat,lon\na,S1,31.2,121.4\nb,S2,31.3,121.5\n")
        #expect(
            html.contains(
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; "
                    + "style-src &#39;unsafe-inline&#39;; img-src data:\""))
        for tag in ["<script", "<link", "<img", "<iframe", "<object", "<embed"] {
            #expect(!html.contains(tag), "\(tag)")
        }
        for scheme in ["http:", "https:", "//", "url("] {
            #expect(!html.contains("src=\"\(scheme)") && !html.contains("href=\"\(scheme)"))
        }
        #expect(!html.contains("url("))
    }

    @Test func everyClusterHasACardAndAPlaceOnTheMap() throws {
        let html = try Self.page(
            [
                Self.decision(id: "cp-1", at: 60),
                Self.decision(id: "cp-2", location: "S00002", lat: 31.22, lon: 121.47, at: 70),
                Self.decision(event: "updated", id: "cp-1", at: 65, score: 0.95),
                Self.decision(
                    event: "closed", id: "cp-2", location: "S00002", lat: 31.22,
                    lon: 121.47, at: 130),
            ],
            cells: "cell,site,lat,lon\na,S1,31.2,121.4\nb,S2,31.3,121.5\nc,S2,31.3,121.5\n")
        let cards = html.components(separatedBy: "<section class=\"card ").count - 1
        #expect(cards == 2)
        #expect(html.contains("id=\"cluster-cp-1\""))
        #expect(html.contains("id=\"cluster-cp-2\""))
        #expect(html.contains("<svg id=\"map\""))
        // Two sites in the table, each drawn once as a faint point.
        let cellsGroup = try #require(html.range(of: "<g class=\"cells\">"))
        let groupEnd = try #require(
            html.range(of: "</g>", range: cellsGroup.upperBound..<html.endIndex))
        #expect(
            html[cellsGroup.upperBound..<groupEnd.lowerBound].components(separatedBy: "<circle")
                .count - 1 == 2)
        #expect(html.contains("closed at 2026-11-20T02:10:00Z"))
        #expect(html.contains("open at the end of the decisions"))
    }

    @Test func aClusterThatMovesIsDrawnAsAPath() throws {
        let still = try Self.page([Self.decision(), Self.decision(event: "updated", at: 70)])
        #expect(!still.contains("class=\"route\""))
        let moving = try Self.page([
            Self.decision(),
            Self.decision(
                event: "updated", location: "S00007", lat: 31.2214, lon: 121.4631, at: 90),
            Self.decision(
                event: "updated", location: "S00013", lat: 31.2259, lon: 121.4631, at: 120),
        ])
        let route = try #require(moving.range(of: "<polyline points=\""))
        let points = moving[route.upperBound...].prefix { $0 != "\"" }
        #expect(points.split(separator: " ").count == 3)
    }

    @Test func decisionsWithoutCoordinatesUseTheCellTable() throws {
        let html = try Self.page(
            [Self.decision(location: "460-00-4000-10010", lat: nil, lon: nil)],
            cells: "cell,site,lat,lon\n460-00-4000-10010,S1,31.2,121.4\n")
        #expect(html.contains("(31.2, 121.4)"))
        let none = try Self.page([Self.decision(lat: nil, lon: nil)])
        #expect(none.contains("No coordinates"))
    }

    @Test(arguments: [
        "2026-11-20T00:16:00Z", "1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z",
        "2026-03-01T12:00:00Z", "1969-12-31T23:00:00Z",
    ])
    func readsTimesAsFoundationDoes(_ text: String) throws {
        let formatter = ISO8601DateFormatter()
        let expected = try #require(formatter.date(from: text)).timeIntervalSince1970
        #expect(epochSeconds(text) == expected)
    }

    @Test func refusesOtherTimeForms() {
        for text in [
            "2026-11-20 00:16:00", "2026-13-20T00:16:00Z", "2026-11-20T00:16:00+08:00", "",
        ] {
            #expect(epochSeconds(text) == nil, "\(text)")
        }
        #expect(epochSeconds("2026-11-20T00:16:00.250Z") == 1_795_133_760.25)
    }

    @Test func namesTheLineThatIsNotADecision() {
        let bytes = Array((Self.decision() + "\n\n{\"event\":\"flagged\"}\n").utf8)
        let error = #expect(throws: ReportError.self) {
            try readJSONLines(ReportDecision.self, from: bytes, source: "d.jsonl")
        }
        guard case .badLine(let source, let line, let reason) = error else {
            Issue.record("expected a bad line, got \(String(describing: error))")
            return
        }
        #expect(source == "d.jsonl" && line == 3 && reason.hasPrefix("missing key"))
        let notJSON = Array((Self.decision() + "\nnot json\n").utf8)
        #expect(throws: ReportError.badLine(source: "e", line: 2, reason: "not JSON")) {
            try readJSONLines(ReportDecision.self, from: notJSON, source: "e")
        }
    }

    @Test func formatsNumbersWithoutNoise() {
        #expect(Markup.number(3.2371) == "3.237")
        #expect(Markup.number(4) == "4")
        #expect(Markup.number(0.1 + 0.2) == "0.3")
        #expect(Markup.number(-2.5) == "-2.5")
        #expect(Markup.fragment("x-", "cp-1") == "x-cp-1")
        #expect(Markup.fragment("x-", "a b") == "x-a_20b")
    }

    @Test func timesOfDayRoundTrip() throws {
        let page = ReportPage(decisions: [])
        let seconds = try #require(epochSeconds("2026-02-28T23:05:00Z"))
        #expect(page.timeOfDay(seconds) == "02-28 23:05")
        #expect(page.timeOfDay(seconds + 3_600) == "03-01 00:05")
    }
}

extension ReportPageTests {
    @Test func reasonsAreThoseOfThePeakScoreNotOfTheClosingWindow() throws {
        let html = try Self.page([
            Self.decision(at: 60, score: 0.8),
            Self.decision(event: "updated", at: 70, sims: ["1", "2", "3", "4", "5"], score: 0.95),
            Self.decision(event: "closed", at: 200, sims: ["1"], score: 0.2),
        ])
        #expect(html.contains("Reasons at the peak score (decision of 2026-11-20T01:10:00Z)"))
        #expect(html.contains("peak score 0.95 · last 0.2"))
        let reasons = try #require(html.range(of: "<table class=\"compact reasons\">"))
        let row = html[reasons.upperBound...].prefix(400)
        #expect(row.contains("<td class=\"num\">5</td>"))
    }
}
