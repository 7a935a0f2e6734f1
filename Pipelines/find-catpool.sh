# Sourced by nightly.sh and live.sh: sets `catpool` to the binary to run, or exits 69 with
# one line saying where it looked. The first of:
#   $CATPOOL                       (must name an executable, or a command on PATH)
#   catpool on PATH
#   ../bin/catpool beside Pipelines/   (the layout `make install PREFIX=/opt/catpool` makes)
#   ../.build/release/catpool          (a checkout after `make`)
# Needs `here` (this folder) and `script` (the caller's name, for the message).
if [ -n "${CATPOOL:-}" ]; then
  catpool=$CATPOOL
  [ -x "$catpool" ] || command -v "$catpool" >/dev/null || {
    echo "$script: CATPOOL=$catpool is not an executable file" >&2
    exit 69
  }
elif catpool=$(command -v catpool); then
  :
elif [ -x "$here/../bin/catpool" ]; then
  catpool=$here/../bin/catpool
elif [ -x "$here/../.build/release/catpool" ]; then
  catpool=$here/../.build/release/catpool
else
  echo "$script: no catpool binary: not on PATH, not in $(cd "$here/.." && pwd)/bin or .build/release;" \
    "install it (make install PREFIX=/opt/catpool) or set CATPOOL=/path/to/catpool" >&2
  exit 69
fi
