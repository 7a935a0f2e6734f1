#!/usr/bin/env bash
# Runs the Pipelines/ scripts on fixtures and compares what they print with the expected
# files, in the manner of zstd's cli-tests:
#
#   Pipelines/tests/run.sh [CASE ...]       # all cases by default
#   RECORD=1 Pipelines/tests/run.sh CASE    # write the expected files from this run (and fail)
#
# Each case is a folder with `cmd` (a bash script run in a scratch folder), `stdout` (what
# it must print) and `exit` (its status). The script sees CATPOOL (the binary), PIPELINES
# and FIXTURES (absolute paths); catpool is also on PATH. A case that exits 77 lacks
# something optional (pyspark for spark-regions): it is skipped with its stderr's last line,
# except under CI=true, where it fails.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export PIPELINES="$root/Pipelines" FIXTURES="$root/Fixtures"
export CATPOOL=${CATPOOL:-$root/.build/debug/catpool}
export PATH="$(dirname "$CATPOOL"):$PATH"
[ -x "$CATPOOL" ] || { echo "run.sh: no catpool at $CATPOOL (swift build first)" >&2; exit 2; }

cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  for folder in "$here"/*/; do cases+=("$(basename "$folder")"); done
fi
failed=0
for name in "${cases[@]}"; do
  case_dir="$here/$name"
  scratch=$(mktemp -d)
  actual_stdout=$(cd "$scratch" && bash "$case_dir/cmd" 2>"$scratch/.stderr")
  actual_exit=$?
  if [ "$actual_exit" = 77 ] && [ "${CI:-}" != true ]; then
    echo "skip $name: $(tail -1 "$scratch/.stderr")"
    rm -rf "$scratch"
    continue
  fi
  if [ "${RECORD:-0}" = 1 ]; then
    # Record mode writes the expected files and fails, so it can never pass for a check.
    printf '%s\n' "$actual_stdout" >"$case_dir/stdout"
    echo "$actual_exit" >"$case_dir/exit"
    echo "recorded $name; review the diff and run again without RECORD to check it"
    failed=1
  fi
  if [ "$actual_stdout" = "$(cat "$case_dir/stdout")" ] && [ "$actual_exit" = "$(cat "$case_dir/exit")" ]; then
    echo "ok   $name"
  else
    echo "FAIL $name (exit $actual_exit, expected $(cat "$case_dir/exit"))"
    diff <(printf '%s\n' "$actual_stdout") "$case_dir/stdout" | head -20
    sed 's/^/  stderr: /' "$scratch/.stderr" | head -10
    failed=1
  fi
  rm -rf "$scratch"
done
exit "$failed"
