#!/usr/bin/env bash
# packaging.install_pkgconfig: install into a fresh prefix, check the tree,
# build consumer/consumer.c with nothing but the installed obatch.pc, and run
# it against the fake Batch API server.
#
# Usage: install_pkgconfig.sh BUILD_DIR SOURCE_DIR WORK_DIR CC PKG_CONFIG PYTHON FAKE_SERVER
# (CMAKE_COMMAND in the environment names cmake.)
set -euo pipefail

build=$1 source=$2 work=$3 cc=$4 pkg_config=$5 python=$6 server=$7
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=install_common.sh
. "$here/install_common.sh"

rm -rf "$work"
mkdir -p "$work/tmp"
prefix=$work/prefix
trap obatch_stop_server EXIT

obatch_install "$build" "$prefix"
obatch_check_layout "$prefix" "$source" "$build"

# The installed command runs, and finds the installed library by its RUNPATH.
version_out=$("$prefix/bin/obatch" --version)
echo "$prefix/bin/obatch --version: $version_out"
case $version_out in *obatch*) ;; *) fail "unexpected --version output" ;; esac
obatch_check_loads_installed "$prefix/bin/obatch"

# A user's build: the compiler and pkg-config, nothing from the source tree.
export PKG_CONFIG_PATH="$OBATCH_LIBDIR/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
[ "$("$pkg_config" --variable=pcfiledir obatch)" = "$OBATCH_LIBDIR/pkgconfig" ] ||
  fail "pkg-config finds another obatch.pc: $("$pkg_config" --variable=pcfiledir obatch)"
# obatch.pc must describe where it was installed, whatever prefix the build
# was configured with (`cmake --install --prefix` does not re-configure).
for var in includedir:"$prefix/include" libdir:"$OBATCH_LIBDIR"; do
  got=$("$pkg_config" --variable="${var%%:*}" obatch)
  [ "$(realpath -m "$got")" = "$(realpath -m "${var#*:}")" ] ||
    fail "obatch.pc says ${var%%:*}=$got, but it was installed to ${var#*:}"
done
flags=$("$pkg_config" --cflags --libs obatch) || fail "pkg-config --cflags --libs obatch failed"
# Only the shared library is installed, so obatch.pc must not make its users
# install the -dev files of obatch's own dependencies (Requires.private is
# read for --cflags too): it resolves with no other .pc file in reach.
PKG_CONFIG_LIBDIR="$OBATCH_LIBDIR/pkgconfig" PKG_CONFIG_PATH= "$pkg_config" --cflags --libs obatch >/dev/null ||
  fail "obatch.pc needs other pkg-config modules; libobatch-dev would have to depend on their -dev packages"
echo "pkg-config --cflags --libs obatch: $flags"
cp "$here/consumer/consumer.c" "$work/consumer.c"
echo "+ $cc $work/consumer.c -o $work/consumer $flags"
# shellcheck disable=SC2086  # pkg-config's output is a word list
"$cc" "$work/consumer.c" -o "$work/consumer" $flags || fail "consumer.c does not build"

export LD_LIBRARY_PATH="$OBATCH_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
obatch_check_loads_installed "$work/consumer"

obatch_start_server "$python" "$server" "$work"
export TMPDIR="$work/tmp"
echo "+ $work/consumer"
if ! "$work/consumer"; then
  echo "--- fake server log ---"
  cat "$work/server.log"
  fail "consumer exited non-zero"
fi
echo "PASS: installed obatch builds and runs through pkg-config"
