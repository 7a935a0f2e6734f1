#!/usr/bin/env bash
# Measures detection quality on realistic simulated days, cold and continued, and prints the
# table of docs/detection.md.
#
#   Pipelines/quality.sh                     # three 100,000-subscriber days and a city's day
#   BIG=0 Pipelines/quality.sh               # the 100,000-subscriber days only
#   BEFORE=/path/to/old/catpool Pipelines/quality.sh   # also score another build's detector
#
# Each day is `catpool simulate` with its defaults (a real city's mix of look-alikes by
# density, a site per 100 subscribers, a tenth of the records up to five minutes late), seeds
# SEEDS (default "1 2 3") at SUBSCRIBERS (default 100000), plus seed 7 at 1,000,000 with 40
# boxes. Every day is detected twice with --cells:
#   cold: from nothing, as a first night is (nobody's past is known);
#   warm: continuing, with --state, a run over the night before (the same city, same people,
#         no boxes: `simulate --boxes 0 --start` a day earlier).
# and scored with `catpool score` against the day's truth. Days are kept in bench-data/.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=${SEEDS:-1 2 3}
subscribers=${SUBSCRIBERS:-100000}
data=bench-data/quality
mkdir -p "$data"
command -v zstd >/dev/null || { echo "quality.sh: needs zstd" >&2; exit 69; }
swift build -c release --static-swift-stdlib --product catpool >/dev/null  # as `make install` builds it
catpool=$PWD/.build/release/catpool

days=()
for seed in $seeds; do days+=("$seed $subscribers 12"); done
[ "${BIG:-1}" = 0 ] || days+=("7 1000000 40")

# score OUTPUT TRUTH: one row of figures from catpool score's report.
score() {
  "$catpool" score --truth "$2" "$1" | awk '
    /^high / { high_precision = $4; high_boxes = $5; high_recall = $6; high_delay = $7 }
    /^call-centre / { cc = $3 } /^transport-hub / { hub = $3 } /^ordinary / { ordinary = $3 }
    /^precision=/ {
      for (i = 1; i <= NF; i++) { split($i, kv, "="); value[kv[1]] = kv[2] }
      printf "| %s | %s | %s | %s | %s | %s (%s) | %s | %s/%s/%s |\n", value["precision"],
        value["recall"], value["sim_precision"], value["delay_p50_min"], high_precision,
        high_recall, high_boxes, high_delay, hub, cc, ordinary
    }'
}

echo "| day | start | detector | precision | recall | SIM precision | delay p50 (min) | high: precision | high: recall (boxes) | high: delay | false: hub/centre/ordinary |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for day in "${days[@]}"; do
  read -r seed people boxes <<<"$day"
  name=$data/s$seed-$people
  if [ ! -s "$name.csv.zst" ]; then
    "$catpool" simulate --seed "$seed" --subscribers "$people" --boxes "$boxes" \
      --out "$name.csv.zst" --truth "$name.truth.json" --cells "$name.cells.csv"
    "$catpool" simulate --seed "$seed" --subscribers "$people" --boxes 0 \
      --start 2026-11-19T00:00:00+08:00 --out "$name.before.csv.zst"
  fi
  detectors=("after $catpool")
  [ -z "${BEFORE:-}" ] || detectors=("before $BEFORE" "${detectors[@]}")
  for entry in "${detectors[@]}"; do
    read -r label binary <<<"$entry"
    "$binary" detect -q --cells "$name.cells.csv" "$name.csv.zst" >"$name.$label.cold.jsonl"
    printf '| %s subscribers, seed %s | cold | %s ' "$people" "$seed" "$label"
    score "$name.$label.cold.jsonl" "$name.truth.json"
    rm -f "$name.$label.state"
    # A state file from another build is refused (exit 65): such a detector has no warm row.
    if "$binary" detect -q --cells "$name.cells.csv" --state "$name.$label.state" \
      "$name.before.csv.zst" >/dev/null 2>&1; then
      "$binary" detect -q --cells "$name.cells.csv" --state "$name.$label.state" \
        "$name.csv.zst" >"$name.$label.warm.jsonl"
      printf '| %s subscribers, seed %s | warm | %s ' "$people" "$seed" "$label"
      score "$name.$label.warm.jsonl" "$name.truth.json"
    fi
  done
done
