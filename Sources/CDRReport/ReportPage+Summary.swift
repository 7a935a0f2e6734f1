import Plot

// MARK: - Summary: clusters by severity and by hour, time span, records read

extension ReportPage {
    /// Severities from the most urgent, as decisions name them.
    static let severities = ["high", "medium", "low", "unrated"]

    /// The colour of a severity, on the map, the badges and the charts.
    static func colour(of severity: String) -> String {
        switch severity {
        case "high": return "#c62828"
        case "medium": return "#ef6c00"
        case "low": return "#b8860b"
        default: return "#616161"
        }
    }

    func summarySection() -> BodyNode {
        .section(
            .id("summary"),
            .h2("Summary"),
            .div(
                .class("summary-grid"),
                .div(.class("panel"), .h3("By severity"), severityTable()),
                .div(.class("panel"), .h3("Time span"), spanList()),
                .div(
                    .class("panel wide"), .h3("Flagged by hour (UTC)"), hourChart()
                )
            ),
            inputsPanel()
        )
    }

    private func severityTable() -> BodyNode {
        let rows: [BodyNode] = Self.severities.compactMap { severity in
            let matching = clusters.filter { $0.severity == severity }
            if matching.isEmpty && severity == "unrated" { return nil }
            let closed = matching.filter(\.isClosed).count
            return Markup.tag(
                "tr",
                Markup.tag("td", Markup.tag("span", class: "badge " + severity, .text(severity))),
                Markup.tag("td", class: "num", .text(String(matching.count))),
                Markup.tag("td", class: "num", .text(String(matching.count - closed))),
                Markup.tag("td", class: "num", .text(String(closed))))
        }
        return Markup.tag(
            "table", class: "compact",
            headerRow(["severity", "clusters", "open", "closed"]),
            Markup.tag("tbody", rows))
    }

    private func spanList() -> BodyNode {
        var rows: [BodyNode] = []
        if let span = timeSpan {
            rows.append(Markup.tag("dt", .text("first window")))
            rows.append(Markup.tag("dd", Markup.text(span.start)))
            rows.append(Markup.tag("dt", .text("last decision")))
            rows.append(Markup.tag("dd", Markup.text(span.end)))
        }
        let decisions = clusters.reduce(0) { $0 + $1.decisions.count }
        rows.append(Markup.tag("dt", .text("decisions")))
        rows.append(Markup.tag("dd", .text(String(decisions))))
        if let statistics {
            rows.append(Markup.tag("dt", .text("records read")))
            rows.append(Markup.tag("dd", .text(String(statistics.records))))
        }
        return Markup.tag("dl", rows)
    }

    /// Clusters by the UTC hour of their first decision, as 24 bars.
    private func hourChart() -> BodyNode {
        var counts = [Int](repeating: 0, count: 24)
        for cluster in clusters {
            guard let seconds = epochSeconds(cluster.first.detectedAt) else { continue }
            let hour = Int((seconds / 3_600).rounded(.down)) % 24
            counts[(hour + 24) % 24] += 1
        }
        let width = 480.0
        let height = 120.0
        let top = max(counts.max() ?? 0, 1)
        let barWidth = (width - 30) / 24
        var nodes: [BodyNode] = [
            Markup.element("title", [:], [.text("Clusters flagged per UTC hour")])
        ]
        for (hour, count) in counts.enumerated() {
            let x = 24 + Double(hour) * barWidth
            let barHeight = (height - 34) * Double(count) / Double(top)
            if count > 0 {
                nodes.append(
                    Markup.element(
                        "rect",
                        attributes: [
                            ("x", Markup.number(x + 1)),
                            ("y", Markup.number(height - 18 - barHeight)),
                            ("width", Markup.number(barWidth - 2)),
                            ("height", Markup.number(barHeight)), ("class", "bar"),
                        ],
                        [Markup.element("title", [:], [.text("\(hour):00 UTC: \(count)")])]))
                nodes.append(
                    Markup.element(
                        "text",
                        attributes: [
                            ("x", Markup.number(x + barWidth / 2)),
                            ("y", Markup.number(height - 22 - barHeight)), ("class", "value"),
                        ],
                        [.text(String(count))]))
            }
            if hour % 3 == 0 {
                nodes.append(
                    Markup.element(
                        "text",
                        attributes: [
                            ("x", Markup.number(x + barWidth / 2)),
                            ("y", Markup.number(height - 4)), ("class", "axis"),
                        ],
                        [.text(hour < 10 ? "0\(hour)" : String(hour))]))
            }
        }
        nodes.append(
            Markup.element(
                "line",
                attributes: [
                    ("x1", "24"), ("x2", Markup.number(width - 6)),
                    ("y1", Markup.number(height - 18)), ("y2", Markup.number(height - 18)),
                    ("class", "baseline"),
                ]))
        return Markup.element(
            "svg",
            attributes: [
                ("id", "by-hour"), ("class", "chart"), ("role", "img"),
                ("viewBox", "0 0 \(Markup.number(width)) \(Markup.number(height))"),
            ], nodes)
    }

    /// A table head of plain column names.
    func headerRow(_ names: [String]) -> BodyNode {
        Markup.tag("thead", Markup.tag("tr", names.map { Markup.tag("th", .text($0)) }))
    }

    /// The inputs of the run with their SHA-256, when a `--stats` file was given.
    private func inputsPanel() -> BodyNode {
        guard let statistics, !statistics.inputs.isEmpty else { return .empty }
        return .div(
            .class("panel"),
            .h3("Inputs (chain of custody)"),
            Markup.tag(
                "table", class: "compact inputs",
                headerRow(["input", "records", "sha256"]),
                Markup.tag(
                    "tbody",
                    statistics.inputs.map { input in
                        Markup.tag(
                            "tr",
                            Markup.tag("td", Markup.text(input.name)),
                            Markup.tag(
                                "td", class: "num", .text(input.records.map(String.init) ?? "")),
                            Markup.tag(
                                "td",
                                Markup.tag(
                                    "code",
                                    Markup.text(input.sha256 ?? "none (not read to its end)"))))
                    }))
        )
    }
}
