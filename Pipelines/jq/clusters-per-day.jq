# Clusters per day and every SIM they showed (the union of each cluster's lines). A cluster
# counts on the day of its first line; days are UTC, as `detected_at` is: for an operator at
# +08:00, shift first, e.g. `(.detected_at | fromdateiso8601 + 8*3600 | todate)[0:10]`.
#   jq -s -r -f Pipelines/jq/clusters-per-day.jq night-*/clusters.jsonl
group_by(.cluster_id)
| map({day: (min_by(.detected_at).detected_at[0:10]), sims: (map(.sims[]) | unique)})
| group_by(.day)
| map("\(.[0].day)\t\(length) clusters\t\(map(.sims[]) | unique | length) SIMs")
| .[]
