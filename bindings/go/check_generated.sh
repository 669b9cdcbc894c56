#!/usr/bin/env bash
# bindings.go.generated: the committed SWIG output (raw/obatch.go,
# raw/obatch_wrap.c) must be what the //go:generate command of
# raw/raw.go makes of today's bindings/obatch.i, obatch_go.i and
# include/obatch/obatch.h. It is committed because a Go consumer builds the
# module from its files in git and Go cannot run SWIG; this check keeps it
# from going stale.
#
# Usage: check_generated.sh SWIG OUT_DIR
set -euo pipefail

swig=$1 out=$2
raw=$(cd "$(dirname "$0")/raw" && pwd)
rm -rf "$out"
mkdir -p "$out"
# The same command and working directory as go generate: SWIG writes the
# interface's path, as given, into both files.
(cd "$raw" && "$swig" -go -cgo -intgosize 64 -package raw -I../../../include \
  -outdir "$out" -o "$out/obatch_wrap.c" ../../obatch.i)
status=0
for f in obatch.go obatch_wrap.c; do
  if [ ! -f "$raw/$f" ]; then
    echo "FAIL: bindings/go/raw/$f is missing"
    status=1
  elif ! diff -u "$raw/$f" "$out/$f" >"$out/$f.diff"; then
    head -n 60 "$out/$f.diff"
    echo "FAIL: bindings/go/raw/$f differs from a fresh SWIG run (whole diff: $out/$f.diff)"
    status=1
  fi
done
if [ $status -ne 0 ]; then
  echo "Regenerate with \`go generate ./...\` in bindings/go (or cmake --build BUILD --target" \
       "obatch_go_generate) and commit both files. They are made with $("$swig" -version |
       sed -n 's/^SWIG Version /SWIG /p'); the committed ones say:" \
       "$(sed -n 's/^ \* Version /SWIG /p' "$raw/obatch_wrap.c" | head -n 1)"
  exit 1
fi
echo "OK: raw/obatch.go and obatch_wrap.c are what SWIG makes of the interface today"
