#!/usr/bin/env bash
# The first command after a clone: installs the dependencies, builds obatch
# (Release, in ./build) and installs it (headers, libobatch.so, obatch.pc,
# the CMake package and the `obatch` command).
#
#   scripts/setup.sh                  # installs to /usr/local
#   PREFIX=$HOME/.local scripts/setup.sh
#
# Then: ctest --test-dir build --output-on-failure
set -euo pipefail

cd "$(dirname "$0")/.."
prefix=${PREFIX:-/usr/local}
jobs=$(nproc 2>/dev/null || echo 2)

echo "setup: installing dependencies"
bash scripts/install-deps.sh

echo "setup: configuring ./build (Release)"
generator=()
if [ ! -f build/CMakeCache.txt ] && command -v ninja >/dev/null 2>&1; then
  generator=(-G Ninja)
fi
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
echo "setup: building with $jobs jobs"
cmake --build build -j "$jobs"

echo "setup: installing to $prefix"
mkdir -p "$prefix" 2>/dev/null || true
sudo=()
if [ "$(id -u)" -ne 0 ] && [ ! -w "$prefix" ]; then
  sudo=(sudo)
fi
"${sudo[@]}" cmake --install build --prefix "$prefix"
if [ "$(id -u)" -eq 0 ]; then
  ldconfig
elif [ ${#sudo[@]} -gt 0 ]; then
  sudo ldconfig
fi

cat <<EOF
setup: done.
  command:   $prefix/bin/obatch --help
  C/C++:     pkg-config --cflags --libs obatch, or find_package(obatch) + obatch::obatch
  run tests: ctest --test-dir build --output-on-failure
EOF
