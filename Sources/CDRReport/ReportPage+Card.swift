import Plot

// MARK: - A card per cluster: score, severity, reasons, devices, timeline, evidence

extension ReportPage {
    func card(_ cluster: ReportCluster) -> BodyNode {
        let latest = cluster.latest
        let severity = cluster.severity
        var whereText = "location \(latest.location)"
        if let place = place(of: latest) {
            whereText +=
                " (\(Markup.number(place.latitude, digits: 6)), "
                + "\(Markup.number(place.longitude, digits: 6)))"
        }
        whereText += "; cells " + latest.cells.joined(separator: ", ")
        let status =
            cluster.isClosed
            ? "closed at \(latest.detectedAt)" : "open at the end of the decisions"
        return Markup.element(
            "section",
            attributes: [
                ("class", "card " + severity), ("id", Markup.fragment("cluster-", cluster.id)),
                ("data-cluster", cluster.id),
            ],
            [
                Markup.tag(
                    "div", class: "card-head",
                    Markup.tag("h3", Markup.text(cluster.id)),
                    Markup.tag("span", class: "badge " + severity, Markup.text(severity)),
                    Markup.tag(
                        "span", class: "score",
                        .text(
                            "peak score " + Markup.number(cluster.peakScore) + " · last "
                                + Markup.number(cluster.latest.score))),
                    Markup.tag("span", class: "status", Markup.text(status))),
                Markup.tag("p", class: "where", Markup.text(whereText)),
                Markup.tag(
                    "div", class: "card-grid",
                    Markup.tag("div", lifetimeList(cluster)),
                    Markup.tag(
                        "div", Markup.tag("h4", .text("Timeline")), timeline(cluster),
                        Markup.tag(
                            "p", class: "legend",
                            Markup.tag("span", class: "key calls", .text("calls/min")),
                            Markup.tag(
                                "span", class: "key sims", .text("SIMs active in the window"))
                        ))),
                Markup.tag(
                    "h4",
                    Markup.text(
                        "Reasons at the peak score (decision of \(cluster.peak.detectedAt)): "
                            + "measured value against the profile's threshold")),
                reasonsTable(cluster.peak),
                devicesBlock(cluster),
                evidenceLink(cluster),
            ])
    }

    private func lifetimeList(_ cluster: ReportCluster) -> BodyNode {
        let latest = cluster.latest
        var rows: [(String, String)] = []
        if let lifetime = latest.lifetime {
            rows += [
                ("first seen", lifetime.firstSeen), ("last seen", lifetime.lastSeen),
                ("calls out", String(lifetime.callsOut)), ("SIMs", String(lifetime.sims)),
                ("peak SIMs in a window", String(lifetime.peakSims)),
            ]
        } else {
            rows += [
                ("first window", cluster.first.windowStart), ("last decision", latest.detectedAt),
                ("SIMs", String(latest.sims.count)),
            ]
        }
        rows.append(("flagged at", cluster.first.detectedAt))
        rows.append(("decisions", String(cluster.decisions.count)))
        if let imeis = latest.imeis { rows.append(("IMEIs", String(imeis.count))) }
        if let stats = latest.stats, let perMinute = stats.callsPerMinute {
            rows.append(("calls/min (last window)", Markup.number(perMinute)))
        }
        return Markup.tag(
            "dl", class: "lifetime",
            rows.flatMap { [Markup.tag("dt", .text($0.0)), Markup.tag("dd", Markup.text($0.1))] })
    }

    private func reasonsTable(_ decision: ReportDecision) -> BodyNode {
        guard let reasons = decision.reasons, !reasons.isEmpty else {
            return Markup.tag("p", class: "note", .text("The decision gives no reasons."))
        }
        return Markup.tag(
            "table", class: "compact reasons",
            headerRow(["feature", "value", "threshold"]),
            Markup.tag(
                "tbody",
                reasons.map { reason in
                    Markup.tag(
                        "tr",
                        Markup.tag("td", Markup.tag("code", Markup.text(reason.code))),
                        Markup.tag("td", class: "num", .text(Markup.number(reason.value))),
                        Markup.tag("td", class: "num", .text(Markup.number(reason.threshold))))
                }))
    }

    /// The latest decision's devices, and the SIMs shown earlier that it no longer links.
    private func devicesBlock(_ cluster: ReportCluster) -> BodyNode {
        let latest = cluster.latest
        var devices = latest.devices ?? []
        let linked = Set(devices.flatMap(\.sims))
        let others = latest.sims.filter { !linked.contains($0) }
        if !others.isEmpty { devices.append(.init(imeis: [], sims: others)) }
        let rows = devices.enumerated().map { index, device in
            let isRest = !others.isEmpty && index == devices.count - 1
            return Markup.tag(
                "tr",
                Markup.tag("td", class: "num", .text(isRest ? "earlier" : String(index + 1))),
                Markup.tag("td", class: "num", .text(String(device.sims.count))),
                Markup.tag("td", class: "ids", Markup.text(device.sims.joined(separator: " "))),
                Markup.tag("td", class: "ids", Markup.text(device.imeis.joined(separator: " "))))
        }
        return Markup.tag(
            "div", class: "devices",
            Markup.tag(
                "h4",
                .text(
                    "SIMs grouped into devices: \(latest.sims.count) SIMs, "
                        + counted(latest.devices?.count ?? 0, "device"))),
            Markup.tag(
                "table", class: "compact devices",
                headerRow(["device", "SIMs", "IMSIs", "IMEIs"]),
                Markup.tag("tbody", rows)))
    }

    private func evidenceLink(_ cluster: ReportCluster) -> BodyNode {
        guard let evidence else { return .empty }
        let count = evidence[cluster.id]?.count ?? 0
        guard count > 0 else {
            return Markup.tag("p", class: "evidence-link", .text("No evidence lines."))
        }
        return Markup.tag(
            "p", class: "evidence-link",
            Markup.element(
                "a", ["href": "#" + Markup.fragment("evidence-", cluster.id)],
                [.text("\(counted(count, "evidence line")) →")]))
    }

    /// `1 device`, `2 devices`.
    func counted(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    // MARK: - Timeline

    /// Calls per minute and SIMs active in each decision's window, over event time.
    func timeline(_ cluster: ReportCluster) -> BodyNode {
        let width = 520.0
        let height = 150.0
        let left = 40.0
        let right = 40.0
        let top = 12.0
        let bottom = 26.0
        // A `closed` decision comes a whole window after the last call: the series drop to
        // zero at that call (`lifetime.last_seen`) rather than hold the last values through
        // the silence, and the closing is a marker of its own.
        var points = cluster.decisions.compactMap { decision -> (Double, Double, Double)? in
            guard decision.event != "closed", let time = epochSeconds(decision.detectedAt) else {
                return nil
            }
            return (time, decision.stats?.callsPerMinute ?? 0, Double(decision.activeSIMs))
        }
        if cluster.isClosed, let closedAt = epochSeconds(cluster.latest.detectedAt) {
            let lastCall = cluster.latest.lifetime.flatMap { epochSeconds($0.lastSeen) }
            let silentFrom = max(lastCall ?? closedAt, points.last?.0 ?? closedAt)
            points.append((min(silentFrom, closedAt), 0, 0))
            if silentFrom < closedAt { points.append((closedAt, 0, 0)) }
        }
        guard let firstTime = points.first?.0, let lastTime = points.last?.0 else {
            return Markup.tag("p", class: "note", .text("No decision times to draw."))
        }
        let startTime =
            epochSeconds(cluster.first.windowStart).map { min($0, firstTime) } ?? firstTime
        let span = max(lastTime - startTime, 60)
        let topCalls = max(points.map(\.1).max() ?? 0, 1)
        let topSIMs = max(points.map(\.2).max() ?? 0, 1)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        func x(_ time: Double) -> Double { left + (time - startTime) / span * plotWidth }
        func y(_ value: Double, _ maximum: Double) -> Double {
            top + plotHeight * (1 - value / maximum)
        }
        // Both series are steps: a decision's window measures hold until the next decision
        // (decisions come only when something changes), so a sloping line would invent values.
        var calls: [String] = []
        var sims: [String] = []
        var marks: [BodyNode] = []
        var previous: (calls: Double, sims: Double)?
        for (time, perMinute, active) in points {
            let px = Markup.number(x(time), digits: 1)
            if let previous {
                calls.append("\(px),\(Markup.number(y(previous.calls, topCalls), digits: 1))")
                sims.append("\(px),\(Markup.number(y(previous.sims, topSIMs), digits: 1))")
            }
            calls.append("\(px),\(Markup.number(y(perMinute, topCalls), digits: 1))")
            sims.append("\(px),\(Markup.number(y(active, topSIMs), digits: 1))")
            previous = (perMinute, active)
            marks.append(
                Markup.element(
                    "circle",
                    attributes: [
                        ("cx", px), ("cy", Markup.number(y(perMinute, topCalls), digits: 1)),
                        ("r", "2.5"), ("class", "calls"),
                    ],
                    [
                        Markup.element(
                            "title", [:],
                            [
                                Markup.text(
                                    "\(timeOfDay(time)): \(Markup.number(perMinute)) calls/min, "
                                        + "\(Int(active)) SIMs")
                            ])
                    ]))
        }
        if cluster.isClosed, let closedAt = epochSeconds(cluster.latest.detectedAt) {
            let px = Markup.number(x(closedAt), digits: 1)
            marks.append(
                Markup.element(
                    "line",
                    attributes: [
                        ("x1", px), ("x2", px), ("y1", Markup.number(top)),
                        ("y2", Markup.number(top + plotHeight)), ("class", "closed"),
                    ]))
            marks.append(
                Markup.element(
                    "text",
                    attributes: [
                        ("x", Markup.number(x(closedAt) - 4, digits: 1)),
                        ("y", Markup.number(top + plotHeight / 2)), ("class", "end"),
                    ], [.text("closed")]))
        }
        let baseline = Markup.number(top + plotHeight)
        var nodes: [BodyNode] = [
            Markup.element("title", [:], [Markup.text("Timeline of \(cluster.id)")]),
            Markup.element(
                "line",
                attributes: [
                    ("x1", Markup.number(left)), ("x2", Markup.number(width - right)),
                    ("y1", baseline), ("y2", baseline), ("class", "baseline"),
                ]),
            Markup.element(
                "polyline",
                attributes: [("points", sims.joined(separator: " ")), ("class", "sims")]),
            Markup.element(
                "polyline",
                attributes: [("points", calls.joined(separator: " ")), ("class", "calls")]),
        ]
        nodes += marks
        let labels: [(Double, Double, String, String)] = [
            (left - 4, top + 8, Markup.number(topCalls, digits: 1), "axis calls end"),
            (left - 4, top + plotHeight, "0", "axis end"),
            (width - right + 4, top + 8, Markup.number(topSIMs, digits: 0), "axis sims"),
            (left, height - 6, timeOfDay(startTime), "axis"),
            (width - right, height - 6, timeOfDay(startTime + span), "axis end"),
        ]
        for (lx, ly, text, className) in labels {
            nodes.append(
                Markup.element(
                    "text",
                    attributes: [
                        ("x", Markup.number(lx, digits: 1)), ("y", Markup.number(ly, digits: 1)),
                        ("class", className),
                    ], [Markup.text(text)]))
        }
        return Markup.element(
            "svg",
            attributes: [
                ("class", "timeline"), ("role", "img"),
                ("viewBox", "0 0 \(Markup.number(width)) \(Markup.number(height))"),
            ], nodes)
    }

    /// `MM-DD HH:MM` (UTC) of an instant.
    func timeOfDay(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.down))
        let days = whole >= 0 ? whole / 86_400 : (whole - 86_399) / 86_400
        let inDay = whole - days * 86_400
        // Civil from days (H. Hinnant), for the month and day.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
        return "\(two(month))-\(two(day)) \(two(inDay / 3_600)):\(two(inDay % 3_600 / 60))"
    }

    // MARK: - Evidence

    func evidenceSection() -> BodyNode {
        guard let evidence else { return .empty }
        let blocks: [BodyNode] = clusters.compactMap { cluster in
            guard let lines = evidence[cluster.id], !lines.isEmpty else { return nil }
            let shown = lines.prefix(evidenceLinesShown)
            var children: [BodyNode] = [
                Markup.tag(
                    "h3",
                    Markup.element(
                        "a", ["href": "#" + Markup.fragment("cluster-", cluster.id)],
                        [Markup.text(cluster.id)]),
                    .text(": \(lines.count) lines")),
                Markup.tag(
                    "table", class: "compact evidence",
                    headerRow(["input", "line", "text"]),
                    Markup.tag(
                        "tbody",
                        shown.map { line in
                            Markup.tag(
                                "tr",
                                Markup.tag("td", Markup.text(line.input)),
                                Markup.tag("td", class: "num", .text(String(line.line))),
                                Markup.tag("td", Markup.tag("code", Markup.text(line.text))))
                        })),
            ]
            if lines.count > shown.count {
                children.append(
                    Markup.tag(
                        "p", class: "note",
                        .text(
                            "\(lines.count - shown.count) more lines in the evidence file "
                                + "(jq 'select(.cluster_id == \"…\")' picks them).")))
            }
            return Markup.element(
                "section",
                attributes: [
                    ("class", "evidence-block"), ("id", Markup.fragment("evidence-", cluster.id)),
                ], children)
        }
        return .section(
            .id("evidence"),
            .h2("Evidence"),
            .p(
                .class("note"),
                .text(
                    "Each line of the original dump behind a cluster, with its input and line "
                        + "number (line 1 is the header), so it can be pulled from the dump.")),
            .group(blocks)
        )
    }
}
