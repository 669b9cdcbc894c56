# Sourced by the install_* tests: install the build tree into a fresh prefix
# and check what landed there.
#
#   obatch_install BUILD_DIR PREFIX   -> sets OBATCH_LIBDIR (absolute)
#   obatch_check_layout PREFIX SOURCE_DIR BUILD_DIR

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# `cmake --install BUILD --prefix PREFIX`, then find the library directory:
# CMAKE_INSTALL_LIBDIR may be lib, lib64 or lib/x86_64-linux-gnu.
obatch_install() {
  local build=$1 prefix=$2 pc
  rm -rf "$prefix"
  echo "+ ${CMAKE_COMMAND:-cmake} --install $build --prefix $prefix"
  # Every install writes BUILD/install_manifest.txt: one at a time (the
  # packaging tests run in parallel under ctest -j).
  flock "$build/.install.lock" "${CMAKE_COMMAND:-cmake}" --install "$build" --prefix "$prefix" \
    >"$prefix.install.log" 2>&1 || { cat "$prefix.install.log"; fail "cmake --install failed"; }
  pc=$(find "$prefix" -path '*/pkgconfig/obatch.pc' | head -n 1)
  [ -n "$pc" ] || fail "no pkgconfig/obatch.pc under $prefix"
  OBATCH_LIBDIR=$(cd "$(dirname "$pc")/.." && pwd)
  echo "library directory: ${OBATCH_LIBDIR#"$prefix"/}"
}

obatch_check_layout() {
  local prefix=$1 source=$2 build=$3 f
  for f in include/obatch/obatch.h include/obatch/sys/provider.h \
      "${OBATCH_LIBDIR#"$prefix"/}/libobatch.so.0" \
      "${OBATCH_LIBDIR#"$prefix"/}/pkgconfig/obatch.pc" \
      "${OBATCH_LIBDIR#"$prefix"/}/cmake/obatch/obatchConfig.cmake" \
      "${OBATCH_LIBDIR#"$prefix"/}/cmake/obatch/obatchConfigVersion.cmake" \
      bin/obatch share/man/man1/obatch.1; do
    [ -e "$prefix/$f" ] || fail "installed tree lacks $f"
  done
  [ -x "$prefix/bin/obatch" ] || fail "bin/obatch is not executable"
  # Nothing installed may point back at the source or build tree, nor at
  # targets that only exist there (the static core).
  if grep -rlF -e "$source" -e "$build" -e obatch_core \
      "$OBATCH_LIBDIR/pkgconfig" "$OBATCH_LIBDIR/cmake" "$prefix/include"; then
    fail "the files above reference $source, $build or obatch_core"
  fi
  echo "layout ok: headers, library, pkg-config file, CMake package, command"
}

# Fails unless EXE (as run with the current environment) loads the
# libobatch.so.0 in OBATCH_LIBDIR.
obatch_check_loads_installed() {
  local exe=$1 path
  path=$(ldd "$exe" | sed -n 's/^[[:space:]]*libobatch\.so\.0 => \([^ ]*\) .*/\1/p')
  if [ -z "$path" ] || [ "$(realpath "$path")" != "$(realpath "$OBATCH_LIBDIR/libobatch.so.0")" ]; then
    ldd "$exe" | grep -F libobatch >&2 || true
    fail "$exe does not load $OBATCH_LIBDIR/libobatch.so.0"
  fi
}

# Starts the fake Batch API server; sets OPENAI_BASE_URL / OPENAI_API_KEY.
# The caller must `trap obatch_stop_server EXIT` first.
OBATCH_SERVER_PID=
obatch_start_server() {
  local python=$1 server=$2 dir=$3 i
  rm -f "$dir/port"
  "$python" "$server" --port 0 --port-file "$dir/port" --max-lifetime 300 \
    >"$dir/server.log" 2>&1 &
  OBATCH_SERVER_PID=$!
  for i in $(seq 1 200); do
    [ -s "$dir/port" ] && break
    kill -0 "$OBATCH_SERVER_PID" 2>/dev/null || { cat "$dir/server.log"; fail "fake server died"; }
    sleep 0.05
  done
  [ -s "$dir/port" ] || fail "fake server did not start in 10 s"
  export OPENAI_BASE_URL="http://127.0.0.1:$(cat "$dir/port")/v1"
  export OPENAI_API_KEY=test-key
  # A job journal of this run's own, not the user's.
  export OBATCH_STATE="$dir/jobs.db"
  echo "fake server at $OPENAI_BASE_URL (pid $OBATCH_SERVER_PID)"
}

obatch_stop_server() {
  if [ -n "$OBATCH_SERVER_PID" ]; then
    kill "$OBATCH_SERVER_PID" 2>/dev/null || true
    wait "$OBATCH_SERVER_PID" 2>/dev/null || true
    OBATCH_SERVER_PID=
  fi
}

# A fresh directory outside the repository for a test's project (a user's
# project is not inside obatch's checkout): sets OBATCH_PROJECT. It is removed
# when the test passes and kept, with its path printed, when it fails; the
# caller's EXIT trap calls obatch_project_done.
OBATCH_PROJECT=
obatch_project_new() {
  OBATCH_PROJECT=$(mktemp -d "${TMPDIR:-/tmp}/obatch-$1.XXXXXX")
  echo "project directory: $OBATCH_PROJECT"
}
obatch_project_done() {
  local rc=$1
  [ -n "$OBATCH_PROJECT" ] || return 0
  if [ "$rc" -eq 0 ]; then
    rm -rf "$OBATCH_PROJECT"
  else
    echo "kept for a look: $OBATCH_PROJECT" >&2
  fi
}

# Checks what a quickstart (bindings/*/examples) printed: the batch completed
# and each of its three requests has a 200 answer, in input order.
obatch_check_quickstart() {
  local out=$1 err=$2 n
  grep -qE '^batch batch_[A-Za-z0-9]+ completed; output in \S+-output\.jsonl$' "$out" ||
    { cat "$out" "$err"; fail "the quickstart did not report a completed batch"; }
  for n in 1 2 3; do
    grep -qE "^request-$n -> 200 \S" "$out" ||
      { cat "$out" "$err"; fail "the quickstart printed no 200 answer for request-$n"; }
  done
  [ "$(grep -cE '^request-[0-9]+ -> ' "$out")" -eq 3 ] ||
    { cat "$out"; fail "the quickstart printed another number of results than 3"; }
  ! grep -qF "$OPENAI_API_KEY" "$out" "$err" || fail "the key appears in the quickstart's output"
  echo "quickstart ok: $(grep -E '^batch ' "$out")"
}
