#!/usr/bin/env bash
# The Debian packages, as a packager and a user get them (issue 17):
#   1. copies the tree's files (tracked and untracked, not ignored) into
#      WORK/obatch-VERSION: dpkg-buildpackage writes into debian/ and puts the
#      .debs next to the source directory, so it never runs in the checkout;
#   2. dpkg-checkbuilddeps, then `dpkg-buildpackage -us -uc -b` (debian/rules
#      builds the library and the command only; the suite is not run again),
#      whose dpkg-gensymbols -c4 must also refuse a symbols file with a symbol
#      removed or one unlisted;
#   3. lintian on the .changes: any error or warning fails;
#   4. removes a /usr/local install of obatch (scripts/setup.sh makes one), so
#      nothing but the packages can answer, then `apt-get install ./*.deb`;
#   5. checks what was installed: the files, no RPATH in /usr/bin/obatch,
#      `obatch --version`, `man -w obatch`, a C program built with
#      `pkg-config --cflags --libs obatch` and run against the fake Batch
#      server, a CMake project with find_package(obatch);
#   6. purges the packages (also when a check failed) and checks they are gone.
#
# Needs root or sudo (apt-get, /usr/local). Environment:
#   OBATCH_DEB_DIR   the work directory (default: build-deb in the tree)
#   OBATCH_DEB_JOBS  parallel build jobs (default 2)
set -euo pipefail

cd "$(dirname "$0")/.."
src=$PWD
work=${OBATCH_DEB_DIR:-$src/build-deb}
jobs=${OBATCH_DEB_JOBS:-2}
packages=(libobatch0 libobatch-dev obatch)
# shellcheck source=../tests/packaging/install_common.sh
. "$src/tests/packaging/install_common.sh"

step() {
  printf '\n== deb-check [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"
}
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  fail "not root and no sudo: apt-get install and purge need one"
fi
for tool in dpkg-buildpackage dpkg-checkbuilddeps dh lintian apt-get man pkg-config cc cmake python3 git; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps.sh installs it)"
done

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg-architecture -q DEB_HOST_ARCH)
multiarch=$(dpkg-architecture -q DEB_HOST_MULTIARCH)

step "copy the tree to $work/obatch-$version"
rm -rf "$work"
tree=$work/obatch-$version
mkdir -p "$tree"
git -C "$src" ls-files -z --cached --others --exclude-standard |
  tar -C "$src" --null -T - --ignore-failed-read -cf - | tar -C "$tree" -xf -
[ -x "$tree/debian/rules" ] || fail "the copy has no executable debian/rules"

step "dpkg-checkbuilddeps"
(cd "$tree" && dpkg-checkbuilddeps) || fail "Build-Depends not installed (scripts/install-deps.sh)"

step "dpkg-buildpackage -us -uc -b -j$jobs"
if ! (cd "$tree" && dpkg-buildpackage -us -uc -b "-j$jobs") >"$work/build.log" 2>&1; then
  tail -n 80 "$work/build.log"
  fail "dpkg-buildpackage failed (whole log: $work/build.log)"
fi
grep -E '^dpkg-gensymbols|^dpkg-shlibdeps' "$work/build.log" || true
changes=$work/obatch_${version}_${arch}.changes
[ -f "$changes" ] || fail "no $changes"
debs=()
for p in "${packages[@]}"; do
  deb=$work/${p}_${version}_${arch}.deb
  [ -f "$deb" ] || fail "dpkg-buildpackage made no $deb"
  debs+=("$deb")
  echo "--- $(basename "$deb")"
  dpkg-deb --contents "$deb" | awk '{print "  " $NF}'
done

step "dpkg-gensymbols holds the build to debian/libobatch0.symbols"
# The build above passed it (dh_makeshlibs -- -c4). The same check must fail
# for a symbols file with one symbol more than the library (a function
# removed: an ABI break) and with one less (an unlisted export).
symbols=$tree/debian/libobatch0.symbols
minver=$(sed -n 's/^ obatch_[a-z0-9_]*@Base \(\S*\)$/\1/p' "$symbols" | head -n 1)
{ cat "$symbols"; echo " obatch_removed_function@Base $minver"; } >"$work/removed.symbols"
grep -v '^ obatch_version@Base ' "$symbols" >"$work/unlisted.symbols"
for case in removed unlisted; do
  if (cd "$tree" && dpkg-gensymbols -c4 -plibobatch0 -Pdebian/libobatch0 \
      -I"$work/$case.symbols" -O"$work/$case.out") >"$work/$case.log" 2>&1; then
    cat "$work/$case.log"
    fail "dpkg-gensymbols -c4 accepts a symbols file with a $case symbol"
  fi
  echo "a $case symbol: $(grep -m1 'error:' "$work/$case.log")"
done

step "lintian (errors and warnings fail)"
lintian --fail-on error,warning --display-info --info "$changes" 2>&1 | tee "$work/lintian.log" ||
  fail "lintian reports errors or warnings (above)"
echo "lintian: $(grep -cE '^[EW]: ' "$work/lintian.log" || true) errors and warnings," \
  "$(grep -cE '^I: ' "$work/lintian.log" || true) info tags"

step "remove a /usr/local install of obatch"
for f in /usr/local/bin/obatch /usr/local/include/obatch /usr/local/share/man/man1/obatch.1 \
    /usr/local/lib{,64,/"$multiarch"}/{libobatch.so*,pkgconfig/obatch.pc,cmake/obatch}; do
  if [ -e "$f" ] || [ -L "$f" ]; then
    echo "removing $f"
    "${sudo[@]}" rm -rf "$f"
  fi
done
"${sudo[@]}" ldconfig

purge() {
  step "apt-get purge ${packages[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${packages[@]}" >"$work/purge.log" 2>&1 ||
    { cat "$work/purge.log"; echo "deb-check: purge failed" >&2; return 1; }
}
cleanup() {
  local rc=$?
  obatch_stop_server
  if [ "$installed" = 1 ]; then
    purge || rc=1
  fi
  exit $rc
}
installed=0
trap cleanup EXIT

step "apt-get install ${debs[*]}"
installed=1
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${debs[@]}" \
  >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "apt-get install of the packages failed"; }
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Package} ${Version} ${Status}\n' "$p"
done

step "what the packages installed"
libdir=/usr/lib/$multiarch
for f in "$libdir/libobatch.so.0" "$libdir/libobatch.so" "$libdir/pkgconfig/obatch.pc" \
    "$libdir/cmake/obatch/obatchConfig.cmake" /usr/include/obatch/obatch.h \
    /usr/include/obatch/sys/provider.h /usr/bin/obatch /usr/share/man/man1/obatch.1.gz; do
  [ -e "$f" ] || fail "$f is not installed"
done
if readelf -d /usr/bin/obatch "$libdir/libobatch.so.0" | grep -E 'RPATH|RUNPATH'; then
  fail "a packaged binary has an RPATH or RUNPATH (above)"
fi
echo "files in place; no RPATH/RUNPATH in /usr/bin/obatch and libobatch.so.0"

out=$(cd / && obatch --version)
echo "obatch --version: $out"
[ "$out" = "obatch $version" ] || fail "obatch --version says '$out', the package is $version"
OBATCH_LIBDIR=$libdir
obatch_check_loads_installed /usr/bin/obatch
man_page=$(man -w obatch) || fail "man -w obatch finds no manual page"
echo "man -w obatch: $man_page"
[ "$man_page" = /usr/share/man/man1/obatch.1.gz ] || fail "man -w obatch found $man_page"

step "a C program built with pkg-config --cflags --libs obatch, against the fake server"
mkdir -p "$work/consumer/tmp"
flags=$(env -u PKG_CONFIG_PATH pkg-config --cflags --libs obatch) || fail "pkg-config obatch failed"
echo "pkg-config --cflags --libs obatch: $flags"
[ "$(pkg-config --variable=prefix obatch)" = /usr ] ||
  fail "obatch.pc says prefix=$(pkg-config --variable=prefix obatch), not /usr"
[ "$(echo $flags)" = "-lobatch" ] ||
  fail "pkg-config passes more than -lobatch: /usr/include and $libdir are the compiler's own"
cp tests/packaging/consumer/consumer.c "$work/consumer/"
# shellcheck disable=SC2086  # pkg-config's output is a word list
cc -Wall -Wextra -Werror "$work/consumer/consumer.c" -o "$work/consumer/consumer" $flags ||
  fail "consumer.c does not build against the packages"
obatch_check_loads_installed "$work/consumer/consumer"
obatch_start_server python3 "$src/tests/fake_server/fake_batch_server.py" "$work/consumer"
(cd "$work/consumer" && TMPDIR="$work/consumer/tmp" ./consumer) ||
  { cat "$work/consumer/server.log"; fail "the consumer failed against the fake server"; }
obatch_stop_server

step "a CMake project with find_package(obatch)"
cmake -S tests/packaging/cmake_consumer -B "$work/cmake_consumer" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$work/cmake_consumer.log" 2>&1 &&
  cmake --build "$work/cmake_consumer" >>"$work/cmake_consumer.log" 2>&1 ||
  { cat "$work/cmake_consumer.log"; fail "find_package(obatch) against the packages"; }
found=$(sed -n 's/^obatch_DIR:PATH=//p' "$work/cmake_consumer/CMakeCache.txt")
[ "$found" = "$libdir/cmake/obatch" ] || fail "find_package(obatch) found $found"
"$work/cmake_consumer/cmake_consumer"

installed=0
purge
for p in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed'; then
    fail "$p is still installed after the purge"
  fi
done
for f in /usr/bin/obatch "$libdir/libobatch.so.0" /usr/include/obatch; do
  [ ! -e "$f" ] || fail "$f is still there after the purge"
done
step "PASS: three lintian-clean packages that install, build a consumer and purge"
