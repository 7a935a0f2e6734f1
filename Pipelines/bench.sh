#!/usr/bin/env bash
# Times catpool against `zstd -dc` on the same simulated day, in the same run.
#
#   Pipelines/bench.sh [SUBSCRIBERS]     # default 1000000: a city's day, about 26.7 M records
#
# Builds catpool in release mode, simulates bench-data/day-SUBSCRIBERS.csv.zst (with its cell
# table and truth) once, then runs, alternately and RUNS times each (default 3):
#   zstd -dc DAY >/dev/null
#   catpool check -q DAY                       (reading alone: decode, split, parse)
#   catpool detect -q --cells CELLS DAY        (the main job)
#   the simple rule in DuckDB                  (Pipelines/simple-rule.sql, if duckdb is there)
# and prints the medians, each as a ratio to zstd -dc, with peak RSS (/usr/bin/time) and the
# detection quality of the last run (catpool score). Then, unless FLAT=0, it simulates 48
# hours of the same population and compares detect's peak RSS on it with the 24-hour one:
# memory must follow what is live in the window, not the input's length.
set -euo pipefail
cd "$(dirname "$0")/.."

subscribers=${1:-1000000}
runs=${RUNS:-3}
# By default the layout of the city the README's figures were measured on (simulate's
# defaults before 0.3: a site per 250 subscribers, one look-alike of each kind, records in
# order; today's look-alikes are busier). CITY="" takes today's defaults, a dense realistic
# city with late records; Pipelines/sweep.sh measures cost as cells and SIMs grow.
city=${CITY---subscribers-per-site 250 --look-alikes 1 --disorder-s 0}
data=bench-data
tag=$subscribers${CITY+-$(printf '%s' "$CITY" | tr -c 'a-z0-9' '_')}
day=$data/day-$tag.csv.zst
cells=$data/cells-$tag.csv
truth=$data/truth-$tag.json
for tool in zstd /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench.sh: needs $tool (apt-get install -y zstd time)" >&2; exit 69; }
done

swift build -c release --product catpool >/dev/null
catpool=.build/release/catpool
mkdir -p "$data"
if [ ! -s "$day" ]; then
  /usr/bin/time -f "simulated in %e s" "$catpool" simulate --subscribers "$subscribers" \
    $city --out "$day" --truth "$truth" --cells "$cells"
fi

measure() {  # measure OUTPUT COMMAND...: prints "seconds peak_kb" of one run, stdout to OUTPUT
  local output=$1
  shift
  /usr/bin/time -f '%e %M' -o "$data/time.out" "$@" >"$output" 2>"$data/stderr.out" \
    || { cat "$data/stderr.out" >&2; exit 1; }
  cat "$data/time.out"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The simple rule in DuckDB (Pipelines/simple-rule.sql, two threads), the tool an analyst
# would pick, when python3 has duckdb (pip install duckdb).
jobs=(check detect)
rule=(python3 -c 'import duckdb, sys
con = duckdb.connect(); con.execute("SET threads = 2")
con.execute("SET VARIABLE dump = ?", [sys.argv[1]])
print(len(con.sql(open(sys.argv[2]).read()).fetchall()), "flagged cell-buckets")' \
  "$day" Pipelines/simple-rule.sql)
python3 -c 'import duckdb' 2>/dev/null && jobs+=(duckdb)
declare -A times peaks
for ((i = 0; i < runs; i++)); do
  read -r s _ < <(measure /dev/null zstd -dc "$day"); times[zstd]+="$s "
  read -r s kb < <(measure /dev/null "$catpool" check -q "$day"); times[check]+="$s "; peaks[check]=$kb
  read -r s kb < <(measure "$data/detected.jsonl" "$catpool" detect -q --cells "$cells" "$day"); times[detect]+="$s "; peaks[detect]=$kb
  if [[ " ${jobs[*]} " == *" duckdb "* ]]; then
    read -r s kb < <(measure /dev/null "${rule[@]}"); times[duckdb]+="$s "; peaks[duckdb]=$kb
  fi
done
records=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['records'])" "$truth" 2>/dev/null || echo 0)
zstd_median=$(printf '%s\n' ${times[zstd]} | median)

echo "machine:  $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(swift --version 2>/dev/null | head -1)"
echo "day:      $day ($subscribers subscribers, $records records, $(stat -c %s "$day") bytes compressed)"
echo "zstd -dc: ${zstd_median} s (runs: ${times[zstd]})"
for job in "${jobs[@]}"; do
  job_median=$(printf '%s\n' ${times[$job]} | median)
  awk -v name="$job" -v z="$zstd_median" -v c="$job_median" -v n="$records" -v kb="${peaks[$job]}" -v all="${times[$job]}" \
    'BEGIN { printf "%-9s %s s (runs: %s) = %.2f x zstd -dc, %.2f M records/s, peak RSS %d MB\n", name ":", c, all, z / c, n / c / 1e6, kb / 1024 }'
done
if [ -n "${times[duckdb]:-}" ]; then
  awk -v d="$(printf '%s\n' ${times[detect]} | median)" -v r="$(printf '%s\n' ${times[duckdb]} | median)" \
    'BEGIN { printf "detect is %.1f x faster than the simple rule in DuckDB\n", r / d }'
fi
echo "quality:  $("$catpool" score --truth "$truth" "$data/detected.jsonl" | tail -1)"

if [ "${FLAT:-1}" != 0 ]; then
  two_days=$data/two-days-$tag.csv.zst
  if [ ! -s "$two_days" ]; then
    /usr/bin/time -f "simulated 48 hours in %e s" "$catpool" simulate --subscribers "$subscribers" \
      $city --hours 48 --out "$two_days" --cells "$data/cells-48h-$tag.csv"
  fi
  read -r s48 kb48 < <(measure /dev/null "$catpool" detect -q --cells "$data/cells-48h-$tag.csv" "$two_days")
  awk -v kb24="${peaks[detect]}" -v kb48="$kb48" -v s48="$s48" \
    'BEGIN { printf "48 hours: detect %s s, peak RSS %d MB = %.2f x the 24-hour run\n", s48, kb48 / 1024, kb48 / kb24 }'
fi
