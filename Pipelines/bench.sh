#!/usr/bin/env bash
# Times catpool's reading stage against `zstd -dc` on the same file in the same run.
#
#   Pipelines/bench.sh [RECORDS]      # default 5000000 records (about 635 MB decoded)
#
# Builds catpool and the corpus generator in release mode, makes bench-data/corpus-RECORDS.csv.zst
# once (Benchmarks/Sources/CorpusGenerator: ~127-byte lines, deterministic), then runs
# `zstd -dc FILE >/dev/null` and `catpool check -q FILE` alternately, RUNS times each
# (default 5), and prints the medians, the ratio and catpool's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."

records=${1:-5000000}
runs=${RUNS:-5}
data=bench-data
file=$data/corpus-$records.csv.zst
for tool in zstd /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench.sh: needs $tool (apt-get install -y zstd time)" >&2; exit 69; }
done

swift build -c release --product catpool >/dev/null
(cd Benchmarks && swift build -c release --product make-corpus >/dev/null)
mkdir -p "$data"
[ -s "$file" ] || Benchmarks/.build/release/make-corpus "$records" "$file"

catpool=.build/release/catpool
measure() {  # prints "seconds peak_kb" of one run of "$@"
  /usr/bin/time -f '%e %M' -o "$data/time.out" "$@" >/dev/null 2>"$data/stderr.out" \
    || { cat "$data/stderr.out" >&2; exit 1; }
  cat "$data/time.out"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

zstd_times=(); catpool_times=(); peak=0
for ((i = 0; i < runs; i++)); do
  read -r seconds _ < <(measure zstd -dc "$file"); zstd_times+=("$seconds")
  read -r seconds kb < <(measure "$catpool" check -q "$file"); catpool_times+=("$seconds")
  (( kb > peak )) && peak=$kb
done
zstd_median=$(printf '%s\n' "${zstd_times[@]}" | median)
catpool_median=$(printf '%s\n' "${catpool_times[@]}" | median)
decoded=$(zstd -lv "$file" 2>/dev/null | awk '/Decompressed Size/ { gsub(/[(),]/, "", $0); for (i = 1; i <= NF; i++) if ($i == "B") print $(i-1) }' | tail -1)

echo "machine:   $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(swift --version 2>/dev/null | head -1)"
echo "file:      $file ($records records, $(stat -c %s "$file") bytes compressed${decoded:+, $decoded bytes decoded})"
echo "zstd -dc:  ${zstd_median} s (median of $runs: ${zstd_times[*]})"
echo "catpool:   ${catpool_median} s (median of $runs: ${catpool_times[*]}), peak RSS $((peak / 1024)) MB"
awk -v z="$zstd_median" -v c="$catpool_median" -v n="$records" \
  'BEGIN { printf "ratio:     %.2f x the speed of zstd -dc; %.2f M records/s\n", z / c, n / c / 1e6 }'
