#!/usr/bin/env bash
# Makes (or reuses) a Python venv with the official `openai` SDK from PyPI,
# for `obatch serve`'s SDK tests (tests/lifecycle/test_cli_serve_sdk.py):
# the ctest fixture serve.openai_venv runs it into <build>/tests/openai-venv
# before them. Safe to run again: a venv with the pinned version is kept.
#
#   scripts/openai-venv.sh DIR
#
# Without PyPI it fails in CI (CI=true); elsewhere it says so and exits 0,
# and the SDK tests skip (in CI they fail: they never skip there).
set -euo pipefail

dir=${1:?usage: openai-venv.sh DIR}
version=3.63.0  # the SDK the tests were written against

has_sdk() {
  [ -x "$dir/bin/python" ] &&
    "$dir/bin/python" -c "import openai, sys; sys.exit(openai.__version__ != '$version')" 2>/dev/null
}

if has_sdk; then
  echo "openai-venv: $dir has openai $version"
  exit 0
fi
rm -rf "$dir"
if python3 -m venv "$dir" &&
   "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "openai==$version" &&
   has_sdk; then
  echo "openai-venv: openai $version installed in $dir"
  exit 0
fi
echo "openai-venv: could not install openai $version from PyPI into $dir" >&2
if [ "${CI:-}" = true ]; then
  exit 1
fi
echo "openai-venv: the SDK tests will skip (they fail when CI=true)" >&2
exit 0
