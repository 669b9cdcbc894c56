#!/usr/bin/env bash
# Installs everything obatch's build and tests need: Debian packages, then the
# npm packages of the tests when npm is there: the contract tests' Prism mock
# (tests/contract/package-lock.json) and packaging.node's TypeScript compiler
# (tests/packaging/node/package-lock.json). Safe to run again.
#
# Uses sudo when not root. Environment:
#   OBATCH_SKIP_NPM=1   do not touch the tests' node_modules
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(
  # toolchain
  g++ gcc binutils cmake ninja-build pkg-config python3
  # libraries (ARCHITECTURE.md "Dependencies")
  libcurl4-openssl-dev libsimdjson-dev libsqlite3-dev libssl-dev libcli11-dev
  libpcre2-dev zlib1g-dev libpq-dev
  # `obatch serve`'s HTTP server (src/serve/http_server.cpp)
  libmicrohttpd-dev
  # tests and bindings (Node 20 with its headers and Go come with the machine;
  # Ruby and its test tools come from Debian: rubygems.org is not reachable)
  libcmocka-dev swig ruby ruby-dev rake ruby-minitest
  # the TLS tests make a self-signed certificate; sqlite3 inspects journals;
  # the queue's tests run a throwaway PostgreSQL server (scripts/pg-test-server.sh)
  openssl sqlite3 postgresql
  # benchmarks (bench/run): Google Benchmark, a venv for the Python peers, and
  # nginx, the fast local server of figure 9 (direct mode: the figure starts its
  # own nginx with its own config and port; the package's service is not used)
  libbenchmark-dev python3-venv nginx
  # fuzzing (fuzz/README.md: clang with libFuzzer and the sanitizer runtimes)
  # and memcheck (scripts/memcheck.sh)
  clang libclang-rt-14-dev valgrind
  # the Debian packages (scripts/deb-check.sh: dpkg-buildpackage, lintian,
  # `man -w obatch`; the tree is copied with git) and packaging.ruby (Bundler)
  build-essential dpkg-dev debhelper lintian man-db git ruby-bundler
)

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-deps: not root and no sudo; cannot install packages" >&2
  exit 1
fi

echo "install-deps: apt-get update"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
echo "install-deps: apt-get install ${packages[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${packages[@]}"

# The tests' npm packages, each pinned by its package-lock.json. `npm ci`
# wipes and rebuilds node_modules, so skip it when node_modules was installed
# from the current lock file.
npm_ci() {
  local dir=$1 why=$2
  if [ "${OBATCH_SKIP_NPM:-0}" = 1 ]; then
    echo "install-deps: OBATCH_SKIP_NPM=1: not installing $dir's npm packages"
  elif [ ! -f "$dir/package-lock.json" ]; then
    echo "install-deps: no $dir/package-lock.json: nothing to install with npm"
  elif ! command -v npm >/dev/null 2>&1; then
    echo "install-deps: npm not found: $why" \
         "(install Node 20 + npm, then run: npm ci --prefix $dir)"
  elif [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] &&
       [ "$dir/node_modules/.package-lock.json" -nt "$dir/package.json" ]; then
    echo "install-deps: $dir/node_modules is up to date with its package-lock.json"
  else
    echo "install-deps: npm ci --prefix $dir"
    npm ci --prefix "$dir" --no-audit --no-fund
  fi
}
npm_ci tests/contract "the contract tests will be skipped"
npm_ci tests/packaging/node "packaging.node (tsc --strict) will fail"
echo "install-deps: done"
