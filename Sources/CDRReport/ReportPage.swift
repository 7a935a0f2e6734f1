import CDRPipeline
import Plot

/// One self-contained HTML page about a run's clusters, for a person to open offline.
///
/// The page is built from what `catpool detect` wrote (its decisions, and optionally its
/// `--stats` object and `--evidence` lines) and the cell table: a summary, an SVG map of the
/// flagged sites, and a card per cluster with its reasons, devices, timeline and evidence.
/// It loads nothing: no script, no external style, font or image, and a Content-Security-
/// Policy (`default-src 'none'`) makes the browser refuse any fetch a value might sneak in.
/// Every value from the inputs is escaped (`Markup`). This type does no I/O; `catpool
/// report` reads the files and writes the page.
public struct ReportPage: Sendable {
    /// The Content-Security-Policy of the page: nothing but its inline style and data: images.
    public static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

    public var clusters: [ReportCluster]
    public var cells: CellTable?
    public var statistics: ReportStatistics?
    /// `nil` when no evidence file was given; otherwise its lines, by cluster id.
    public var evidence: [String: [EvidenceLine]]?
    /// Evidence lines shown per cluster; the rest are counted (the file has them all).
    public var evidenceLinesShown: Int

    /// - Parameters:
    ///   - decisions: every decision, in the order read.
    ///   - cells: the cell table, for the map's background and sites' coordinates.
    ///   - statistics: the run's `--stats` object, for records read and the inputs' digests.
    ///   - evidence: the `--evidence` lines, when given.
    ///   - evidenceLinesShown: evidence lines shown per cluster.
    public init(
        decisions: [ReportDecision], cells: CellTable? = nil,
        statistics: ReportStatistics? = nil, evidence: [EvidenceLine]? = nil,
        evidenceLinesShown: Int = 500
    ) {
        clusters = ReportCluster.gather(decisions)
        self.cells = cells
        self.statistics = statistics
        self.evidence = evidence.map { Dictionary(grouping: $0, by: \.clusterID) }
        self.evidenceLinesShown = evidenceLinesShown
    }

    /// The page.
    ///
    /// - Complexity: O(decisions + cells + evidence lines shown).
    public func render() -> String {
        let html = HTML(
            .lang(.english),
            .head(
                .meta(.charset(.utf8)),
                .meta(
                    .attribute(named: "http-equiv", value: "Content-Security-Policy"),
                    .attribute(
                        named: "content",
                        value: Markup.attributeValue(Self.contentSecurityPolicy))),
                .meta(.name("viewport"), .content("width=device-width, initial-scale=1")),
                .title("catpool report"),
                .style(Self.styleSheet)
            ),
            .body(
                .header(
                    .h1("catpool report"),
                    .p(.class("lede"), Markup.text(lede))
                ),
                summarySection(),
                mapSection(),
                .section(
                    .id("clusters"),
                    .h2("Clusters"),
                    .group(clusters.map(card))
                ),
                evidenceSection(),
                .footer(
                    .p(
                        .text(
                            "Made by catpool report from the detector's decisions; times are "
                                + "UTC event times of the records, never the clock of the run."))
                )
            )
        )
        return html.render()
    }

    /// One sentence under the title: how many clusters, and when.
    var lede: String {
        let span = timeSpan.map { " from \($0.start) to \($0.end)" } ?? ""
        let count = clusters.count == 1 ? "1 cluster" : "\(clusters.count) clusters"
        return "\(count) flagged\(span)."
    }

    /// The earliest window start and the latest decision of all clusters.
    var timeSpan: (start: String, end: String)? {
        let starts = clusters.flatMap { $0.decisions.map(\.windowStart) }
        let ends = clusters.flatMap { $0.decisions.map(\.detectedAt) }
        guard let start = starts.min(by: earlier), let end = ends.max(by: earlier) else {
            return nil
        }
        return (start, end)
    }
}

/// Orders ISO 8601 times by the instant they name (text order when one is not catpool's).
func earlier(_ left: String, _ right: String) -> Bool {
    if let a = epochSeconds(left), let b = epochSeconds(right) { return a < b }
    return left < right
}
