#!/usr/bin/env bash
# Cost per record as the city grows: the same number of records over more cells, then over
# more SIMs. Cost per record must not grow with either (the throughput issue allows 20 %).
#
#   Pipelines/sweep.sh            # RUNS=3 for medians of three (default 1)
#
# Cells: 300,000 subscribers from 08:00 to 16:00 local (about 3.4 M records) on 1,333, 5,000
# and 20,000 sites (4,000, 15,000 and 60,000 cells). SIMs: 100,000 subscribers for a whole
# day, 300,000 from 08:00 to 16:00 and 1,000,000 from 08:00 to 11:00 (2.6 to 3.9 M records)
# on 2,000 sites. Each day is simulated once into bench-data/sweep/. Then each run times
# `zstd -dc`, `catpool check -q` and `catpool detect -q --cells` on every day in turn, so the
# machine's drift falls on all rows alike; the table gives medians in nanoseconds per record
# and each job's wall time over zstd's. So is detection over each cell's first record alone
# (the day's setup: start-up, the cell table, each cell met once), and the last column gives
# detection's nanoseconds per record with that setup set aside.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-1}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "sweep.sh: RUNS must be a whole number of runs, at least 1" >&2; exit 64; }
data=bench-data/sweep
mkdir -p "$data"
for tool in zstd jq /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "sweep.sh: needs $tool" >&2; exit 69; }
done
swift build -c release --static-swift-stdlib --product catpool >/dev/null  # as `make install` builds it
catpool=.build/release/catpool

seconds() {  # seconds COMMAND...: wall seconds of one run, output discarded
  /usr/bin/time -f '%e' -o "$data/time.out" "$@" >/dev/null 2>"$data/stderr.out" \
    || { cat "$data/stderr.out" >&2; exit 1; }
  cat "$data/time.out"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

rows=("cells 300000 8 225" "cells 300000 8 60" "cells 300000 8 15"
  "sims 100000 24 50" "sims 300000 8 150" "sims 1000000 3 500")
day_of() { # day_of PEOPLE HOURS PER_SITE: the day's path, without extension
  echo "$data/$1-$2-$3"
}
for row in "${rows[@]}"; do
  read -r sweep people hours per_site <<<"$row"
  day=$(day_of "$people" "$hours" "$per_site")
  start=2026-11-20T08:00:00+08:00
  [ "$hours" = 24 ] && start=2026-11-20T00:00:00+08:00
  if [ ! -s "$day.csv.zst" ]; then
    "$catpool" simulate --seed 3 --subscribers "$people" --hours "$hours" --start "$start" \
      --subscribers-per-site "$per_site" --out "$day.csv.zst" --cells "$day.cells.csv" \
      --truth "$day.truth.json"
  fi
  # Each cell's first record alone: what detection pays before any per-record work (start-up,
  # the cell table read, each cell met once). With 60,000 cells that is a tenth of a second, a
  # seventh of these short days (a fiftieth of a whole one), so it is shown apart.
  if [ ! "$day.first.csv" -nt "$day.csv.zst" ]; then
    zstd -dc "$day.csv.zst" | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "cell") c = i
        if (!c) { print "sweep.sh: no cell column in the day" > "/dev/stderr"; exit 1 } }
      NR == 1 || !seen[$c]++' >"$day.first.csv.tmp"
    mv "$day.first.csv.tmp" "$day.first.csv"
  fi
done

# Round-robin: each run times every day once before the next run starts, so the machine's
# drift from minute to minute spreads over all rows instead of tilting one against another.
declare -A times
for _ in $(seq "$runs"); do
  for index in "${!rows[@]}"; do
    read -r _ people hours per_site <<<"${rows[$index]}"
    day=$(day_of "$people" "$hours" "$per_site")
    times[$index,zstd]+="$(seconds zstd -dc "$day.csv.zst") "
    times[$index,check]+="$(seconds "$catpool" check -q "$day.csv.zst") "
    times[$index,detect]+="$(seconds "$catpool" detect -q --cells "$day.cells.csv" "$day.csv.zst") "
    times[$index,setup]+="$(seconds "$catpool" detect -q --cells "$day.cells.csv" "$day.first.csv") "
  done
done

echo "| sweep | subscribers | hours | sites | cells | records | zstd -dc s | check ns/record | check ÷ zstd | detect ns/record | detect ÷ zstd | detect setup s | detect ns/record, setup aside |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for index in "${!rows[@]}"; do
  read -r sweep people hours per_site <<<"${rows[$index]}"
  day=$(day_of "$people" "$hours" "$per_site")
  records=$(jq .records "$day.truth.json")
  cells=$(($(wc -l <"$day.cells.csv") - 1))
  z=$(printf '%s\n' ${times[$index,zstd]} | median)
  c=$(printf '%s\n' ${times[$index,check]} | median)
  d=$(printf '%s\n' ${times[$index,detect]} | median)
  s=$(printf '%s\n' ${times[$index,setup]} | median)
  awk -v sweep="$sweep" -v people="$people" -v hours="$hours" -v sites=$((cells / 3)) \
    -v cells="$cells" -v records="$records" -v z="$z" -v c="$c" -v d="$d" -v s="$s" 'BEGIN {
      printf "| %s | %d | %d | %d | %d | %d | %.2f | %.0f | %.2f | %.0f | %.2f | %.2f | %.0f |\n",
        sweep, people, hours, sites, cells, records, z, c * 1e9 / records, c / z,
        d * 1e9 / records, d / z, s, (d - s) * 1e9 / records
    }'
done
