# Sites by the number of distinct clusters flagged there, busiest first.
#   jq -s -r -f Pipelines/jq/top-sites.jq clusters.jsonl
map(select(.event == "flagged"))
| group_by(.location)
| map({site: .[0].location, clusters: (map(.cluster_id) | unique | length), sims: (map(.sims[]) | unique | length)})
| sort_by(-.clusters, -.sims, .site)
| .[]
| "\(.site)\t\(.clusters) clusters\t\(.sims) SIMs"
