# catpool decisions -> one alert per line, for an alerting webhook or a ticket queue.
#   catpool detect ... | jq -c -f Pipelines/jq/alerts.jq
# The decision's severity pages: high is critical (act now), medium a warning (analyst
# review), low and closed lines are informational. Group alerts by `cluster` in the alert
# manager: a cluster's later lines repeat its page, and a cluster that rises to high says so
# in an `updated` line. With `catpool detect --min-severity high` only high clusters arrive.
select(.event == "flagged" or .event == "updated" or .event == "closed")
| {
    alert: "catpool-sim-box",
    severity: (if .event == "closed" then "info"
               elif .severity == "high" then "critical"
               elif .severity == "medium" then "warning"
               else "info" end),
    event,
    cluster: .cluster_id,
    site: .location,
    lat, lon,
    sims: (.sims | length),
    devices: (.devices | length),
    score,
    calls_per_minute: .stats.calls_per_minute,
    at: .detected_at,
    summary: "\(.cluster_id) \(.event) (\(.severity)): \(.sims | length) SIMs in \(.devices | length) device(s) at \(.location), \(.stats.calls_per_minute) calls/min, score \(.score)"
  }
