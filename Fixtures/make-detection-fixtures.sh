#!/usr/bin/env bash
# Regenerates the detection scenarios in Fixtures/replay/ with `catpool simulate`.
# Each scenario is a small simulated stretch (seed and options below) with one kind of box
# or one look-alike; the expected output is then recorded by
#   RECORD_FIXTURES=1 swift test --disable-xctest --filter FixtureReplay
# and must be reviewed by hand. Run from the repository root after `swift build`.
set -euo pipefail
cd "$(dirname "$0")/.."
catpool=${CATPOOL_BIN:-.build/debug/catpool}

# scenario  seed  extra simulate options...
scenarios=(
  "box-one-cell                 11 --boxes 1 --box-kinds standard --look-alike-kinds none"
  "box-three-sectors-with-cells 12 --boxes 1 --box-kinds sectors --look-alike-kinds none"
  "box-sim-bank                 13 --boxes 1 --box-kinds sim-bank --look-alike-kinds none"
  "box-shared-imei              14 --boxes 1 --box-kinds shared-imei --look-alike-kinds none"
  "box-random-imei              15 --boxes 1 --box-kinds random-imei --look-alike-kinds none"
  "box-mobile                   16 --boxes 1 --box-kinds mobile --look-alike-kinds none"
  "box-inter-calling            17 --boxes 1 --box-kinds inter-calling --look-alike-kinds none"
  "box-low-and-slow             18 --boxes 1 --box-kinds low-and-slow --look-alike-kinds none"
  "box-humanised                19 --boxes 2 --box-kinds humanised --look-alike-kinds none"
  "lookalike-call-centre        21 --boxes 0 --look-alike-kinds call-centre"
  "lookalike-transport-hub      22 --boxes 0 --look-alike-kinds transport-hub"
  "lookalike-m2m-farm           23 --boxes 0 --look-alike-kinds m2m-farm"
  "lookalike-telemarketer       24 --boxes 0 --look-alike-kinds telemarketer"
  "lookalike-dual-sim           25 --boxes 0 --look-alike-kinds dual-sim"
  "lookalike-enterprise-gateway 26 --boxes 0 --look-alike-kinds enterprise-gateway"
)
for line in "${scenarios[@]}"; do
  read -r name seed options <<<"$line"
  dir=Fixtures/replay/$name
  mkdir -p "$dir"
  # Office hours (08:00 to 12:00 at +08:00), when call centres and gateways work.
  command="$catpool simulate --seed $seed --subscribers 200 --start 2026-11-20T08:00:00+08:00 --hours 4 --look-alikes 1 --disorder-s 0 $options --format csv --out $dir/input.csv --truth $dir/truth.json --cells $dir/cells.csv"
  $command
  zstd -q -19 -f "$dir/input.csv" -o "$dir/input.csv.zst"
  printf 'detect\n-q\n--cells\ncells.csv\n' >"$dir/args"
  echo "${command/$catpool/catpool}" >"$dir/command"
done
