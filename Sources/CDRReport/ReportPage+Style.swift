// MARK: - The page's only style, inline (the Content-Security-Policy allows nothing else)

extension ReportPage {
    static let styleSheet = """
        :root { color-scheme: light; --ink: #1f2328; --muted: #57606a; --line: #d0d7de; }
        * { box-sizing: border-box; }
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
          margin: 0 auto; max-width: 1100px; padding: 16px 24px 48px; background: #f6f8fa; }
        h1 { margin: 8px 0 0; font-size: 26px; }
        h2 { margin: 28px 0 10px; font-size: 20px; border-bottom: 1px solid var(--line); }
        h3 { margin: 0 0 6px; font-size: 16px; }
        h4 { margin: 12px 0 4px; font-size: 13px; color: var(--muted); text-transform: uppercase;
          letter-spacing: .04em; }
        .lede { color: var(--muted); margin: 4px 0 0; font-size: 15px; }
        .note { color: var(--muted); font-size: 12px; }
        .summary-grid { display: grid; grid-template-columns: auto auto minmax(0, 1fr); gap: 12px; }
        .panel, .card { background: #fff; border: 1px solid var(--line); border-radius: 8px;
          padding: 12px 14px; }
        .panel.wide { min-width: 0; }
        .panel + .panel, section > .panel { margin-top: 12px; }
        table.compact { border-collapse: collapse; width: 100%; }
        table.compact th, table.compact td { text-align: left; padding: 3px 8px 3px 0;
          border-bottom: 1px solid #eaeef2; vertical-align: top; }
        table.compact th { font-weight: 600; color: var(--muted); font-size: 12px; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; padding-right: 12px; }
        table.reasons { width: auto; min-width: 420px; }
        td.ids { font: 11px/1.4 ui-monospace, monospace; word-break: break-all; }
        table.inputs code { font-size: 11px; word-break: break-all; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
        dt { color: var(--muted); }
        dd { margin: 0; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff;
          font-size: 12px; font-weight: 600; background: #616161; }
        .badge.high { background: #c62828; }
        .badge.medium { background: #ef6c00; }
        .badge.low { background: #b8860b; }
        svg.chart { width: 100%; height: auto; }
        svg.chart .bar { fill: #0969da; }
        svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
        svg text.value { text-anchor: middle; fill: var(--ink); }
        svg text.axis { text-anchor: middle; }
        svg text.end { text-anchor: end; }
        svg .baseline { stroke: #afb8c1; stroke-width: 1; }
        svg.map { width: 100%; height: auto; background: #fff; border: 1px solid var(--line);
          border-radius: 8px; }
        svg.map .map-ground { fill: #fbfcfd; }
        svg.map .cells circle { fill: #8c959f; opacity: .35; }
        svg.map .route { fill: none; stroke-width: 2.5; stroke-dasharray: 6 3; opacity: .85; }
        svg.map .stop { fill: #fff; stroke-width: 2; }
        svg.map .site { stroke: #fff; stroke-width: 1.5; opacity: .9; }
        svg.map text.label { font-weight: 600; fill: var(--ink); paint-order: stroke;
          stroke: #fff; stroke-width: 3px; }
        svg.map .scale line { stroke: var(--ink); stroke-width: 2; }
        #clusters { display: grid; grid-template-columns: 1fr; gap: 14px; }
        #clusters > h2 { margin-bottom: 0; }
        .card { border-left: 6px solid #616161; }
        .card.high { border-left-color: #c62828; }
        .card.medium { border-left-color: #ef6c00; }
        .card.low { border-left-color: #b8860b; }
        .card-head { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; }
        .card-head h3 { font-size: 18px; margin: 0; }
        .card-head .score { font-weight: 600; }
        .card-head .status { color: var(--muted); margin-left: auto; }
        .where { color: var(--muted); margin: 4px 0 8px; word-break: break-word; }
        .card-grid { display: grid; grid-template-columns: minmax(220px, 1fr) 2fr; gap: 16px; }
        svg.timeline { width: 100%; height: auto; }
        svg.timeline polyline { fill: none; stroke-width: 2; }
        svg.timeline polyline.calls { stroke: #0969da; }
        svg.timeline polyline.sims { stroke: #ef6c00; stroke-dasharray: 4 2; }
        svg.timeline circle.calls { fill: #0969da; }
        svg.timeline text.calls { fill: #0969da; }
        svg.timeline text.sims { fill: #ef6c00; }
        svg.timeline line.closed { stroke: #57606a; stroke-dasharray: 2 3; }
        .legend { margin: 0; font-size: 12px; color: var(--muted); }
        .key::before { content: ""; display: inline-block; width: 14px; height: 3px;
          margin: 0 4px 3px 10px; vertical-align: middle; }
        .key.calls::before { background: #0969da; }
        .key.sims::before { background: #ef6c00; }
        .evidence-block { background: #fff; border: 1px solid var(--line); border-radius: 8px;
          padding: 10px 14px; margin-top: 12px; }
        table.evidence td { font-size: 12px; padding: 1px 10px 1px 0; }
        table.evidence code { font: 11px/1.35 ui-monospace, monospace; white-space: pre-wrap;
          word-break: break-all; }
        footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
        @media (max-width: 760px) { .summary-grid, .card-grid { grid-template-columns: 1fr; } }
        """
}
