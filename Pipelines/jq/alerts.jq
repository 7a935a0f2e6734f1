# catpool decisions -> one alert per line, for an alerting webhook or a ticket queue.
#   catpool detect ... | jq -c -f Pipelines/jq/alerts.jq
# Flagged clusters page; updates and closes are informational.
select(.event == "flagged" or .event == "updated" or .event == "closed")
| {
    alert: "catpool-sim-box",
    severity: (if .event == "flagged" then (if .score >= 0.9 then "critical" else "warning" end) else "info" end),
    event,
    cluster: .cluster_id,
    site: .location,
    lat, lon,
    sims: (.sims | length),
    devices: (.devices | length),
    score,
    calls_per_minute: .stats.calls_per_minute,
    at: .detected_at,
    summary: "\(.cluster_id) \(.event): \(.sims | length) SIMs in \(.devices | length) device(s) at \(.location), \(.stats.calls_per_minute) calls/min, score \(.score)"
  }
