# Sites by the number of distinct clusters seen there, busiest first, with every SIM those
# clusters showed there (each decision lists its cluster's SIMs so far, so the union of a
# cluster's lines holds all of them: a SIM bank's fresh SIMs come in `updated` lines).
#   jq -s -r -f Pipelines/jq/top-sites.jq clusters.jsonl
group_by(.location)
| map({site: .[0].location, clusters: (map(.cluster_id) | unique | length), sims: (map(.sims[]) | unique | length)})
| sort_by(-.clusters, -.sims, .site)
| .[]
| "\(.site)\t\(.clusters) clusters\t\(.sims) SIMs"
