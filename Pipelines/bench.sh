#!/usr/bin/env bash
# Times catpool against `zstd -dc` on the same simulated days, in the same run.
#
#   Pipelines/bench.sh [SUBSCRIBERS]     # default 1000000: a city's day, 26-31 M records
#
# Builds catpool in release mode and simulates, once each into bench-data/, two days of
# SUBSCRIBERS people (with cell tables and truth):
#   dense     a site per 50 subscribers (1,000,000 people on 20,000 sites with 60,000 cells,
#             as on the day the throughput issue measures), otherwise simulate's defaults:
#             look-alikes at their real numbers, a tenth of the records up to five minutes late;
#   project   the city the 0.2 figures were measured on: a site per 250 subscribers, one
#             look-alike of each kind, records in order.
# On each it runs, alternately and RUNS times each (default 3):
#   zstd -dc DAY >/dev/null
#   zstd-decode-floor DAY                      (libzstd's decode alone, one thread, as
#                                               catpool's reader calls it: the floor; when
#                                               cc can build Benchmarks/zstd-decode-floor.c)
#   catpool check -q DAY                       (reading alone: decode, split, parse)
#   catpool detect -q --cells CELLS DAY        (the main job)
#   the simple rule in DuckDB                  (Pipelines/simple-rule.sql, if duckdb is there)
# and prints the medians with their wall time over zstd's, the median of each run's time over
# the zstd run just before it (steadier when the machine's speed drifts), the highest peak
# RSS of the runs (/usr/bin/time's KiB, in megabytes of 10^6 bytes like the file sizes) and the
# detection quality of the last run (catpool score).
# Then, unless FLAT=0, it simulates 48 hours of the dense city and compares detect's peak RSS
# on it with the 24-hour one: memory must follow what is live in the window, not the input's
# length. CITIES="dense" runs one.
# Pipelines/sweep.sh measures cost per record as cells and SIMs grow.
set -euo pipefail
cd "$(dirname "$0")/.."

subscribers=${1:-1000000}
runs=${RUNS:-3}
cities=${CITIES:-dense project}
data=bench-data
for tool in zstd /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench.sh: needs $tool (apt-get install -y zstd time)" >&2; exit 69; }
done

swift build -c release --static-swift-stdlib --product catpool >/dev/null  # as `make install` builds it
catpool=.build/release/catpool
mkdir -p "$data"

layout() {  # layout CITY: simulate's flags for it
  case $1 in
    dense) echo "--subscribers-per-site 50" ;;
    project) echo "--subscribers-per-site 250 --look-alikes 1 --disorder-s 0" ;;
    *) echo "bench.sh: no city named $1 (dense, project)" >&2; exit 64 ;;
  esac
}

measure() {  # measure OUTPUT COMMAND...: prints "seconds peak_kb" of one run, stdout to OUTPUT
  local output=$1
  shift
  /usr/bin/time -f '%e %M' -o "$data/time.out" "$@" >"$output" 2>"$data/stderr.out" \
    || { cat "$data/stderr.out" >&2; exit 1; }
  cat "$data/time.out"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# simulate_once DAY FLAGS ARGS...: simulates DAY with FLAGS unless it is there from the same
# flags (a day from an older layout, or one cut short, is simulated again).
simulate_once() {
  local day=$1 flags=$2
  shift 2
  [ -s "$day" ] && [ "$(cat "$day.flags" 2>/dev/null)" = "$flags" ] && return
  rm -f "$day.flags"
  # shellcheck disable=SC2086 # the layout is several flags
  "$catpool" simulate --subscribers "$subscribers" $flags --out "$day" "$@"
  printf '%s' "$flags" >"$day.flags"
}

# The floor (Benchmarks/zstd-decode-floor.c): libzstd's decode alone, one thread, called as
# catpool's reader calls it. Needs a C compiler and libzstd's header, as the build does.
floor=$data/zstd-decode-floor
if ! cc -O2 -o "$floor" Benchmarks/zstd-decode-floor.c -lzstd 2>/dev/null; then
  echo "bench.sh: no C compiler or zstd.h: the decoding-alone row is left out" >&2
  floor=
fi

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(swift --version 2>/dev/null | head -1)"
echo
echo "| city | job | seconds (runs) | ÷ zstd -dc | ÷ zstd -dc, run by run | records/s | peak RSS |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for name in $cities; do
  flags=$(layout "$name")
  tag=$subscribers-$name
  day=$data/day-$tag.csv.zst
  cells=$data/cells-$tag.csv
  truth=$data/truth-$tag.json
  simulate_once "$day" "$flags" --truth "$truth" --cells "$cells"
  # The simple rule in DuckDB (two threads), the tool an analyst would pick, when python3 has
  # duckdb (pip install duckdb).
  jobs=(check detect)
  rule=(python3 -c 'import duckdb, sys
con = duckdb.connect(); con.execute("SET threads = 2")
con.execute("SET VARIABLE dump = ?", [sys.argv[1]])
print(len(con.sql(open(sys.argv[2]).read()).fetchall()), "flagged cell-buckets")' \
    "$day" Pipelines/simple-rule.sql)
  python3 -c 'import duckdb' 2>/dev/null && jobs+=(duckdb)
  [ -n "$floor" ] && jobs=(decode "${jobs[@]}")
  declare -A times=() peaks=()
  for ((i = 0; i < runs; i++)); do
    read -r s _ < <(measure /dev/null zstd -dc "$day"); times[zstd]+="$s "
    if [[ " ${jobs[*]} " == *" decode "* ]]; then
      read -r s kb < <(measure /dev/null "$floor" "$day"); times[decode]+="$s "; peaks[decode]+="$kb "
    fi
    read -r s kb < <(measure /dev/null "$catpool" check -q "$day"); times[check]+="$s "; peaks[check]+="$kb "
    read -r s kb < <(measure "$data/detected.jsonl" "$catpool" detect -q --cells "$cells" "$day")
    times[detect]+="$s "; peaks[detect]+="$kb "
    if [[ " ${jobs[*]} " == *" duckdb "* ]]; then
      read -r s kb < <(measure /dev/null "${rule[@]}"); times[duckdb]+="$s "; peaks[duckdb]+="$kb "
    fi
  done
  records=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['records'])" "$truth" 2>/dev/null || echo 0)
  zstd_median=$(printf '%s\n' ${times[zstd]} | median)
  echo "| $name ($records records, $(($(stat -c %s "$day") / 1000000)) MB zstd) | \`zstd -dc\` | $zstd_median (${times[zstd]% }) | 1.00 | 1.00 | | |"
  for job in "${jobs[@]}"; do
    job_median=$(printf '%s\n' ${times[$job]} | median)
    # Each run's time over the zstd run just before it, then the median: the machine's speed
    # drifts between runs, and a pair measured a few seconds apart shares one speed.
    paired=$(paste -d' ' <(printf '%s\n' ${times[$job]}) <(printf '%s\n' ${times[zstd]}) \
      | awk '{ printf "%.4f\n", ($2 > 0 ? $1 / $2 : 0) }' | median)
    highest=$(printf '%s\n' ${peaks[$job]} | sort -n | tail -1)
    awk -v city="$name" -v name="$job" -v z="$zstd_median" -v c="$job_median" -v n="$records" \
      -v kb="$highest" -v all="${times[$job]% }" -v p="$paired" \
      'BEGIN { if (z <= 0) z = 0.01; if (c <= 0) c = 0.01
        printf "| %s | %s | %s (%s) | %.2f | %.2f | %.1f M | %.0f MB |\n", city, name, c, all, c / z, p, n / c / 1e6, kb * 1.024 / 1000 }'
  done
  if [ -n "${times[duckdb]:-}" ]; then
    awk -v city="$name" -v d="$(printf '%s\n' ${times[detect]} | median)" -v r="$(printf '%s\n' ${times[duckdb]} | median)" \
      'BEGIN { if (d <= 0) d = 0.01; printf "%s: detect is %.1f x faster than the simple rule in DuckDB\n", city, r / d }' >&2
    if [ -n "${times[decode]:-}" ]; then
      # No reader of a one-frame .zst file beats its decode, so this is the most any could be.
      awk -v city="$name" -v f="$(printf '%s\n' ${times[decode]} | median)" -v r="$(printf '%s\n' ${times[duckdb]} | median)" \
        'BEGIN { if (f <= 0) f = 0.01
          printf "%s: decoding alone takes %.2f s, so nothing decoding this file with libzstd here can be more than %.1f x faster than the rule\n", city, f, r / f }' >&2
    fi
  fi
  echo "$name quality: $("$catpool" score --truth "$truth" "$data/detected.jsonl" | tail -1)" >&2
  unset times peaks
done

if [ "${FLAT:-1}" != 0 ]; then
  tag=$subscribers-dense
  two_days=$data/two-days-$tag.csv.zst
  simulate_once "$two_days" "$(layout dense)" --hours 48 --cells "$data/cells-48h-$tag.csv"
  read -r _ kb24 < <(measure /dev/null "$catpool" detect -q --cells "$data/cells-$tag.csv" "$data/day-$tag.csv.zst")
  read -r s48 kb48 < <(measure /dev/null "$catpool" detect -q --cells "$data/cells-48h-$tag.csv" "$two_days")
  awk -v kb24="$kb24" -v kb48="$kb48" -v s48="$s48" \
    'BEGIN { printf "48 hours of the dense city: detect %s s, peak RSS %.0f MB = %.2f x the 24-hour run\n", s48, kb48 * 1.024 / 1000, kb48 / kb24 }' >&2
fi
