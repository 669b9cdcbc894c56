#!/usr/bin/env bash
# packaging.install_cmake_package: install into a fresh prefix, then configure,
# build and run cmake_consumer/ (find_package(obatch) + obatch::obatch) against
# it with only CMAKE_PREFIX_PATH pointing there.
#
# Usage: install_cmake_package.sh BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR CC
# (CMAKE_COMMAND in the environment names cmake.)
set -euo pipefail

build=$1 source=$2 work=$3 generator=$4 cc=$5
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=install_common.sh
. "$here/install_common.sh"
cmake=${CMAKE_COMMAND:-cmake}

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
obatch_install "$build" "$prefix"
obatch_check_layout "$prefix" "$source" "$build"

echo "+ $cmake -S $here/cmake_consumer -B $work/consumer -DCMAKE_PREFIX_PATH=$prefix"
"$cmake" -S "$here/cmake_consumer" -B "$work/consumer" -G "$generator" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" \
  >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "find_package(obatch) project does not configure"; }
found=$(sed -n 's/^obatch_DIR:PATH=//p' "$work/consumer/CMakeCache.txt")
[ "$found" = "$OBATCH_LIBDIR/cmake/obatch" ] ||
  fail "find_package found obatch in '$found', not in $OBATCH_LIBDIR/cmake/obatch"
echo "found obatch package: $found"

"$cmake" --build "$work/consumer" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "the consumer does not build against obatch::obatch"; }

exe=$work/consumer/cmake_consumer
# obatch::obatch carries the installed library's location: CMake's build
# RUNPATH finds it with no LD_LIBRARY_PATH.
obatch_check_loads_installed "$exe"
echo "+ $exe"
"$exe" || fail "cmake_consumer exited non-zero"
echo "PASS: installed obatch works through find_package(obatch) and obatch::obatch"
