#!/usr/bin/env bash
# packaging.go: the Go module as a user's module gets it (bindings/go/README.md,
# "Install", does exactly this):
#   1. libobatch installed into a fresh prefix, found through PKG_CONFIG_PATH
#      (and LD_LIBRARY_PATH at run time: obatch.pc carries no rpath);
#   2. a new module outside the repository that requires
#      github.com/obatch/obatch/bindings/go, with a replace to this checkout
#      (nothing is published), and the package's examples/quickstart/main.go;
#   3. without obatch.pc in pkg-config's reach, `go build` fails in cgo's
#      pkg-config step: cgo finds the library through `#cgo pkg-config: obatch`;
#   4. `go build` with it, and the program runs against the fake Batch server
#      with the prefix's libobatch.
# The module's files are taken as they are in git (the committed SWIG output in
# raw): no SWIG run, no network (GOPROXY=off), caches in the project.
#
# Usage: install_go.sh BUILD_DIR SOURCE_DIR GO PYTHON FAKE_SERVER
# (CMAKE_COMMAND in the environment names cmake.)
set -euo pipefail

build=$1 source=$2 go=$3 python=$4 server=$5
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=install_common.sh
. "$here/install_common.sh"
module=github.com/obatch/obatch/bindings/go

obatch_project_new go
work=$OBATCH_PROJECT
trap 'rc=$?; obatch_stop_server; obatch_project_done $rc' EXIT
export GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local GOENV=off CGO_ENABLED=1 \
  GOCACHE=$work/gocache GOPATH=$work/gopath GOMODCACHE=$work/gopath/pkg/mod

# 1. the library
obatch_install "$build" "$work/prefix"
export PKG_CONFIG_PATH="$OBATCH_LIBDIR/pkgconfig"
export LD_LIBRARY_PATH="$OBATCH_LIBDIR"

# The checkout as a consumer sees it: the files git has. A SWIG run of the
# build may have rewritten raw; what matters is what is committed.
OBATCH_GO=$source/bindings/go
if git -C "$source" rev-parse --git-dir >/dev/null 2>&1; then
  for f in raw/obatch.go raw/obatch_wrap.c; do
    git -C "$source" ls-files --error-unmatch "bindings/go/$f" >/dev/null 2>&1 ||
      fail "bindings/go/$f is not committed: a consumer of the module would not get it"
  done
fi

# 2. the consumer module
app=$work/myapp
mkdir -p "$app/tmp"
cd "$app"
"$go" mod init example.com/myapp >/dev/null 2>&1
echo "+ go mod edit -require=$module@v0.0.0 -replace=$module=$OBATCH_GO"
"$go" mod edit -require="$module@v0.0.0" -replace="$module=$OBATCH_GO"
cp "$OBATCH_GO/examples/quickstart/main.go" .

# 3. no obatch.pc in reach: cgo's pkg-config step says so
mkdir -p "$work/empty"
PKG_CONFIG_LIBDIR="$work/empty" PKG_CONFIG_PATH= "$go" build -o "$work/nolib" . >"$work/nolib.log" 2>&1 &&
  { cat "$work/nolib.log"; fail "go build succeeded with no obatch.pc in pkg-config's reach"; }
grep -qF 'pkg-config' "$work/nolib.log" && grep -qF 'obatch' "$work/nolib.log" ||
  { cat "$work/nolib.log"; fail "go build without obatch.pc failed, but not in cgo's pkg-config step"; }
echo "without obatch.pc: go build fails with: $(grep -m1 -F 'Package obatch' "$work/nolib.log" || head -n 2 "$work/nolib.log")"

# 4. the build and the run
echo "+ go build -o quickstart ."
"$go" build -o quickstart . || fail "go build of the consumer module failed"
obatch_check_loads_installed "$app/quickstart"
obatch_start_server "$python" "$server" "$work"
export TMPDIR="$app/tmp"
echo "+ ./quickstart"
./quickstart >"$work/quickstart.out" 2>"$work/quickstart.err" ||
  { cat "$work/quickstart.out" "$work/quickstart.err" "$work/server.log"; fail "the quickstart failed"; }
obatch_check_quickstart "$work/quickstart.out" "$work/quickstart.err"
chmod -R u+w "$work/gopath" 2>/dev/null || true # the module cache is read-only
echo "PASS: a Go module outside the repository requires $module, builds with cgo + pkg-config and runs the quickstart"
