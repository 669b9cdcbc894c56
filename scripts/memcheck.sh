#!/usr/bin/env bash
# Runs the C/C++ cmocka tests of a build under valgrind memcheck and fails on
# any memory error or any definitely/indirectly lost block:
#   - the unit tier (label unit): each test executable once, all its cases
#     in one process (a valgrind start costs about a second; the tier has
#     hundreds of cases and a dozen or so executables);
#   - the C lifecycle tests (label lifecycle, run as a program of the build:
#     test_capi_lifecycle, test_capi_local, test_provider_plugin, ...): case
#     by case through `ctest -T memcheck`, which gives each case its
#     environment (the fake server) and its TIMEOUT.
# Not the Python, Node, Go or Ruby tests (valgrind would check the
# interpreter), and not the sanitizer build (ASan and valgrind do not mix).
#
# Usage: scripts/memcheck.sh [BUILD_DIR]   (default: build; a gcc build
# without OBATCH_SANITIZE). Logs: BUILD_DIR/Testing/memcheck/ (unit tier)
# and BUILD_DIR/Testing/Temporary/MemoryChecker.*.log (lifecycle).
#
# Environment: OBATCH_MEMCHECK_JOBS (default 2) processes at a time;
# OBATCH_MEMCHECK_UNIT_TIMEOUT (default 600) seconds per unit executable.
# The tests run with OBATCH_TEST_VALGRIND=1: everything is 10 to 30 times
# slower, which a test with an upper bound on a duration can allow for.
set -euo pipefail

cd "$(dirname "$0")/.."
build=${1:-build}
# Absolute: the unit tests run from their own directories, logs go here.
[ -d "$build" ] && build=$(cd "$build" && pwd)
jobs=${OBATCH_MEMCHECK_JOBS:-2}
unit_timeout=${OBATCH_MEMCHECK_UNIT_TIMEOUT:-600}

valgrind=$(command -v valgrind) || { echo "memcheck: valgrind is not installed" >&2; exit 2; }
[ -f "$build/CTestTestfile.cmake" ] || { echo "memcheck: no tests in $build (build it first)" >&2; exit 2; }
if grep -q '^OBATCH_SANITIZE:BOOL=ON$' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "memcheck: $build is a sanitizer build; valgrind needs a plain one" >&2
  exit 2
fi

# --errors-for-leak-kinds makes a definite or indirect leak an error, so the
# exit code (--error-exitcode) fails the test; still-reachable and possible
# leaks (libcurl's and OpenSSL's process-wide state) are not reported.
vg_options=(--tool=memcheck --error-exitcode=99 --leak-check=full
  --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
  --track-fds=no --num-callers=40 --child-silent-after-fork=yes)

export OBATCH_TEST_VALGRIND=1
failed=()
start=$SECONDS

# The test executables of a label: the programs built in $build that its
# CTest entries run (not python3, node, ...), one line each.
test_programs() {
  ctest --test-dir "$build" --show-only=json-v1 -L "^$1\$" | python3 -c '
import json, os, sys
build = os.path.realpath(sys.argv[1])
seen = []
for t in json.load(sys.stdin)["tests"]:
    exe = t.get("command", [""])[0]
    if os.path.realpath(exe).startswith(build + os.sep) and exe not in seen:
        seen.append(exe)
print("\n".join(seen))' "$build"
}

mapfile -t unit_exes < <(test_programs unit | sed '/^$/d')
mapfile -t lifecycle_exes < <(test_programs lifecycle | sed '/^$/d')
if [ ${#unit_exes[@]} -eq 0 ] || [ ${#lifecycle_exes[@]} -eq 0 ]; then
  echo "memcheck: no unit or no C lifecycle tests registered in $build" >&2
  exit 2
fi
# CTest names the cases of executable X "X.<case>" (tests/support/ObatchTest.cmake).
lifecycle_regex="^($(for exe in "${lifecycle_exes[@]}"; do basename "$exe"; done |
  sed 's/[.]/\\./g' | paste -sd '|'))\\."

# ---- unit tier: one valgrind run per executable ----------------------------
logs=$build/Testing/memcheck
rm -rf "$logs"
mkdir -p "$logs"
echo "memcheck: unit tier: ${#unit_exes[@]} executables, $jobs at a time"

run_unit() {
  local exe=$1 name
  name=$(basename "$exe")
  if (cd "$(dirname "$exe")" &&
      timeout "$unit_timeout" "$valgrind" "${vg_options[@]}" --log-file="$logs/$name.valgrind.log" \
        "$exe" >"$logs/$name.out" 2>&1); then
    echo "memcheck: ok      $name"
  else
    local rc=$?
    echo "memcheck: FAILED  $name (exit $rc$([ $rc -eq 99 ] && echo ': valgrind found errors')$([ $rc -eq 124 ] && echo ": timed out after ${unit_timeout}s"))"
    sed 's/^/    /' "$logs/$name.valgrind.log" | grep -v '^    ==[0-9]*== *$' | tail -n 80
    tail -n 20 "$logs/$name.out" | sed 's/^/    | /'
    return 1
  fi
}
export -f run_unit
export valgrind logs unit_timeout
export vg_options_str="${vg_options[*]}"
# xargs runs a fresh bash per executable: pass the options as a string.
if ! printf '%s\n' "${unit_exes[@]}" |
    xargs -P "$jobs" -I{} bash -c 'vg_options=($vg_options_str); run_unit "$1"' _ {}; then
  failed+=("unit tier")
fi
echo "memcheck: unit tier done in $((SECONDS - start))s"

# ---- C lifecycle tests: ctest -T memcheck, case by case --------------------
lstart=$SECONDS
rm -f "$build"/Testing/Temporary/MemoryChecker.*.log  # none left from an earlier run
echo "memcheck: C lifecycle tests: ctest -R '$lifecycle_regex'"
if ! ctest --test-dir "$build" -T memcheck -R "$lifecycle_regex" -j "$jobs" --output-on-failure \
    --overwrite "MemoryCheckCommand=$valgrind" \
    --overwrite "MemoryCheckCommandOptions=${vg_options[*]}"; then
  failed+=("C lifecycle tests")
fi
count=$(ctest --test-dir "$build" -N -R "$lifecycle_regex" | sed -n 's/^Total Tests: //p')
echo "memcheck: C lifecycle tests ($count cases of ${lifecycle_exes[*]##*/}) done in $((SECONDS - lstart))s"

if [ ${#failed[@]} -gt 0 ]; then
  echo "memcheck: FAILED: ${failed[*]} ($((SECONDS - start))s)" >&2
  exit 1
fi
echo "memcheck: clean ($((SECONDS - start))s)"
