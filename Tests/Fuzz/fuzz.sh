#!/usr/bin/env bash
# Builds the libFuzzer targets and fuzzes each for a bounded time.
#
#   Tests/Fuzz/fuzz.sh [SECONDS_PER_TARGET]     # default 45
#
# parser:  Sources/CDRRecords + ParserFuzzer.swift (over OpenAddressing), seeds in Fixtures/fuzz/parser
# decoder: Sources/CDRInput   + DecoderFuzzer.swift, seeds in Fixtures/fuzz/decoder
# state:   Sources/{OpenAddressing,CDRRecords,SlidingWindows,SIMBoxDetection} + StateFuzzer.swift, seeds
#          in Fixtures/fuzz/state (the detector's section of real state files, see README)
# Each target is built with `swiftc -sanitize=fuzzer,address` (parser and decoder as one
# module; state over the three modules it imports), so a plain `swift build` never sees it. Findings are written to .build-fuzz/TARGET/crash-*; turn each
# into a fixture under Fixtures/fuzz/TARGET/ (the seeds are replayed by every run) and a
# test. Prints one summary line per target: runs, corpus size, crashes.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-45}
out=.build-fuzz
mkdir -p "$out"
export SWIFT_BACKTRACE=enable=no   # Swift's crash handler would hang under the fuzzer

build() {  # build NAME SOURCES... -- EXTRA FLAGS
  local name=$1; shift
  swiftc -sanitize=fuzzer,address -parse-as-library -use-ld=lld -O -g \
    -module-name "Fuzz${name^}" -o "$out/fuzz-$name" "$@"
}
module() {  # module NAME: Sources/NAME as a library module in $out/modules
  local name=$1
  mkdir -p "$out/modules"
  swiftc -sanitize=fuzzer,address -parse-as-library -O -g -wmo -c -module-name "$name" \
    -emit-module -emit-module-path "$out/modules/$name.swiftmodule" -I "$out/modules" \
    -I Sources/CSupport -o "$out/modules/$name.o" "Sources/$name"/*.swift
}
module OpenAddressing  # the probe table CDRRecords and SIMBoxDetection are built on
build parser Sources/CDRRecords/*.swift Tests/Fuzz/ParserFuzzer.swift -I Sources/CSupport \
  -I "$out/modules" "$out/modules/OpenAddressing.o"
build decoder Sources/CDRInput/*.swift Tests/Fuzz/DecoderFuzzer.swift \
  -I Sources/CZstd -I Sources/CZlib -lzstd -lz

module CDRRecords
module SlidingWindows
module SIMBoxDetection
build state Tests/Fuzz/StateFuzzer.swift -I "$out/modules" -I Sources/CSupport \
  "$out/modules/OpenAddressing.o" "$out/modules/CDRRecords.o" \
  "$out/modules/SlidingWindows.o" "$out/modules/SIMBoxDetection.o"

status=0
for target in parser decoder state; do
  mkdir -p "$out/$target/corpus"
  log="$out/$target/log"
  # The working corpus starts from the committed seeds and grows in .build-fuzz only.
  (cd "$out/$target" && ../fuzz-$target -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 corpus "$OLDPWD/Fixtures/fuzz/$target") \
    >"$log" 2>&1 || status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  crashes=$(find "$out/$target" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' -o -maxdepth 1 -name 'timeout-*' | wc -l)
  corpus=$(find "$out/$target/corpus" -type f | wc -l)
  echo "fuzz $target: $runs runs in ${seconds} s, corpus $corpus inputs, $crashes crashes"
  if [ "$crashes" -gt 0 ]; then tail -40 "$log" >&2; fi
done
exit "$status"
