#!/usr/bin/env bash
# Follows a growing plain-CSV feed (a switch appending CDR lines to a file) and prints an
# alert line as soon as catpool decides: within a second of the record that decides it.
#
#   Pipelines/live.sh FEED.csv [catpool detect options ...]
#
# Stop it with Ctrl-C or SIGTERM: catpool puts out what it has decided and exits 130/143;
# its --state, if given, is only saved by a run that reaches the end of its input.
# CATPOOL names the binary (default: as nightly.sh finds it, find-catpool.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
feed=${1:?usage: live.sh FEED.csv [catpool detect options]}
shift
script=live.sh
. "$here/find-catpool.sh"  # sets catpool, or exits 69 saying where it looked

# tail -F follows the file across rotation; jq --unbuffered passes each alert on at once.
tail -F -n +1 "$feed" 2>/dev/null \
  | "$catpool" detect -q "$@" \
  | jq --unbuffered -c -f "$here/jq/alerts.jq"
