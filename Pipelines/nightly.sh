#!/usr/bin/env bash
# The nightly job: one day's hourly dumps through catpool, continuing yesterday's state.
#
#   Pipelines/nightly.sh DAY_DIR OUT_DIR
#
# Reads DAY_DIR/*.zst in name order (hourly dumps named so they sort: cdr-00.csv.zst ...),
# and writes to OUT_DIR:
#   clusters.jsonl   catpool's decisions (docs/output.md)
#   alerts.jsonl     the same as alerts (Pipelines/jq/alerts.jq)
#   rejects.jsonl    rejected lines, kept for the data engineers
#   stats.json       the run's statistics
# Environment (defaults in brackets):
#   CATPOOL [catpool on PATH, then ../bin/catpool (make install), then
#            ../.build/release/catpool: find-catpool.sh]
#   CATPOOL_STATE_DIR [/var/lib/catpool]
#   CATPOOL_CELLS [none]               CATPOOL_PROFILE [Pipelines/profiles/default.profile]
#   CATPOOL_METRICS [$CATPOOL_STATE_DIR/catpool.prom: point node_exporter's textfile collector here]
# Exit status: catpool's (docs: README, Exit status); 69 when no catpool binary is found
# (before anything is written); 66 when DAY_DIR holds no dump; 75 when another run holds
# the lock.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
day_dir=${1:?usage: nightly.sh DAY_DIR OUT_DIR}
out_dir=${2:?usage: nightly.sh DAY_DIR OUT_DIR}

# The binary, found before anything is written (find-catpool.sh), so a missing one is one
# clear line and status 69, not "command not found" after empty outputs.
script=nightly.sh
. "$here/find-catpool.sh"
state_dir=${CATPOOL_STATE_DIR:-/var/lib/catpool}
profile=${CATPOOL_PROFILE:-$here/profiles/default.profile}
metrics=${CATPOOL_METRICS:-$state_dir/catpool.prom}

mkdir -p "$state_dir" "$out_dir"
# One run at a time: a slow night must not overlap the next one on the same state.
exec 9>"$state_dir/nightly.lock"
if ! flock -n 9; then
  echo "nightly.sh: another run holds $state_dir/nightly.lock" >&2
  exit 75
fi

shopt -s nullglob
dumps=("$day_dir"/*.zst)
if [ ${#dumps[@]} -eq 0 ]; then
  echo "nightly.sh: no .zst dumps in $day_dir" >&2
  exit 66
fi
mapfile -t dumps < <(printf '%s\n' "${dumps[@]}" | LC_ALL=C sort)

cells=()
if [ -n "${CATPOOL_CELLS:-}" ]; then cells=(--cells "$CATPOOL_CELLS"); fi

status=0
"$catpool" detect -q "${cells[@]}" --profile "$profile" \
  --state "$state_dir/catpool.state" --metrics-file "$metrics" \
  --rejects "$out_dir/rejects.jsonl" --stats "$out_dir/stats.json" \
  "${dumps[@]}" >"$out_dir/clusters.jsonl" || status=$?
jq -c -f "$here/jq/alerts.jq" "$out_dir/clusters.jsonl" >"$out_dir/alerts.jsonl"
exit "$status"
