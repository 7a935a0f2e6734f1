# Clusters flagged per day (UTC) and the SIMs they held.
#   jq -s -r -f Pipelines/jq/clusters-per-day.jq night-*/clusters.jsonl
map(select(.event == "flagged"))
| group_by(.detected_at[0:10])
| map("\(.[0].detected_at[0:10])\t\(length) clusters\t\(map(.sims | length) | add) SIMs")
| .[]
