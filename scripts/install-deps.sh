#!/usr/bin/env bash
# Installs everything obatch's build and tests need: Debian packages, then the
# contract tests' npm packages (the Prism mock pinned by
# tests/contract/package-lock.json) when npm is there. Safe to run again.
#
# Uses sudo when not root. Environment:
#   OBATCH_SKIP_NPM=1   do not touch tests/contract/node_modules
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(
  # toolchain
  g++ gcc binutils cmake ninja-build pkg-config python3
  # libraries (ARCHITECTURE.md "Dependencies")
  libcurl4-openssl-dev libsimdjson-dev libsqlite3-dev libssl-dev libcli11-dev
  libpcre2-dev zlib1g-dev libpq-dev
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

# Contract tests (tests/contract): `npm ci` wipes and rebuilds node_modules,
# so skip it when node_modules was installed from the current lock file.
contract=tests/contract
if [ "${OBATCH_SKIP_NPM:-0}" = 1 ]; then
  echo "install-deps: OBATCH_SKIP_NPM=1: not installing $contract's npm packages"
elif [ ! -f "$contract/package-lock.json" ]; then
  echo "install-deps: no $contract/package-lock.json: nothing to install with npm"
elif ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: npm not found: the contract tests will be skipped" \
       "(install Node 20 + npm, then run: npm ci --prefix $contract)"
elif [ "$contract/node_modules/.package-lock.json" -nt "$contract/package-lock.json" ] &&
     [ "$contract/node_modules/.package-lock.json" -nt "$contract/package.json" ]; then
  echo "install-deps: $contract/node_modules is up to date with its package-lock.json"
else
  echo "install-deps: npm ci --prefix $contract"
  npm ci --prefix "$contract" --no-audit --no-fund
fi
echo "install-deps: done"
