#!/usr/bin/env bash
# packaging.ruby: the gem as a user installs it (bindings/ruby/README.md,
# "Install", does exactly this):
#   1. libobatch installed into a fresh prefix, found through PKG_CONFIG_PATH;
#   2. `gem build obatch.gemspec` in bindings/ruby: the gem carries the SWIG
#      interface and extconf.rb, not the tests;
#   3. without the library in pkg-config's reach, `gem install` fails saying
#      what to install;
#   4. `gem install obatch-X.gem` into a fresh GEM_HOME compiles the extension
#      (SWIG + mkmf) against the prefix's libobatch, and the gem's
#      examples/quickstart.rb runs from a plain script against the fake server;
#   5. a Bundler project with `gem "obatch", git: CHECKOUT, glob:
#      "bindings/ruby/obatch.gemspec"` (the checkout's last commit):
#      `bundle install --local` builds the extension and
#      `bundle exec ruby quickstart.rb` runs (Bundler from Debian: rubygems.org
#      is not used).
#
# Usage: install_ruby.sh BUILD_DIR SOURCE_DIR RUBY PYTHON FAKE_SERVER
# (CMAKE_COMMAND in the environment names cmake.)
set -euo pipefail

build=$1 source=$2 ruby=$3 python=$4 server=$5
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=install_common.sh
. "$here/install_common.sh"
gemdir=$source/bindings/ruby
bindir=$(dirname "$ruby")
gem=$bindir/gem
bundle=$(command -v bundle || true)
[ -x "$gem" ] || gem=$(command -v gem) || fail "gem is not installed (Debian: ruby)"
[ -n "$bundle" ] || fail "bundle is not installed (Debian: ruby-bundler; scripts/install-deps.sh)"

obatch_project_new ruby
work=$OBATCH_PROJECT
trap 'rc=$?; obatch_stop_server; obatch_project_done $rc' EXIT
# Nothing from rubygems.org, nothing in the user's own gem directories.
export HOME=$work/home GEM_SPEC_CACHE=$work/home/specs
mkdir -p "$HOME"

# 1. the library
obatch_install "$build" "$work/prefix"
export PKG_CONFIG_PATH="$OBATCH_LIBDIR/pkgconfig"

# 2. the gem
version=$("$ruby" -e 'require ARGV[0]; print Obatch::VERSION' "$gemdir/lib/obatch/version.rb")
gemfile=$work/obatch-$version.gem
echo "+ (cd bindings/ruby && gem build obatch.gemspec --output $gemfile)"
(cd "$gemdir" && "$gem" build obatch.gemspec --output "$gemfile") >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "gem build failed"; }
"$gem" spec "$gemfile" files | sed -n 's/^- //p' | sort >"$work/contents.txt"
for f in lib/obatch.rb lib/obatch/version.rb ext/obatch/extconf.rb ext/obatch/swig/obatch.i \
    ext/obatch/swig/ruby/obatch_ruby.i examples/quickstart.rb obatch.gemspec README.md; do
  grep -qxF "$f" "$work/contents.txt" || { cat "$work/contents.txt"; fail "the gem lacks $f"; }
done
if grep -E '^test/|_wrap\.c$|\.so$' "$work/contents.txt"; then
  fail "the gem carries tests or build products (above)"
fi
echo "gem ok: $(wc -l <"$work/contents.txt") files"

# 3. no library in pkg-config's reach: a clear message
mkdir -p "$work/empty"
PKG_CONFIG_LIBDIR="$work/empty" PKG_CONFIG_PATH= GEM_HOME="$work/nolib-gems" \
  "$gem" install --local --no-document "$gemfile" >"$work/nolib.log" 2>&1 &&
  { cat "$work/nolib.log"; fail "gem install succeeded with no libobatch in pkg-config's reach"; }
grep -qF 'apt-get install libobatch-dev' "$work/nolib.log" && grep -qF 'PKG_CONFIG_PATH' "$work/nolib.log" ||
  { cat "$work/nolib.log"; fail "gem install without libobatch does not say what to install"; }
echo "without libobatch: gem install fails with: $(grep -m1 -F 'pkg-config obatch' "$work/nolib.log")"

# 4. gem install into a fresh GEM_HOME; a plain script
export GEM_HOME=$work/gems GEM_PATH=$work/gems
echo "+ gem install --local $gemfile"
"$gem" install --local --no-document "$gemfile" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "gem install failed"; }
ext=$(find "$GEM_HOME/extensions" -name 'obatch_raw.so' | head -n 1)
[ -n "$ext" ] || { cat "$work/install.log"; fail "gem install built no obatch_raw.so"; }
obatch_check_loads_installed "$ext"
app=$work/myapp
mkdir -p "$app/tmp" "$work/bundled"
cp "$GEM_HOME/gems/obatch-$version/examples/quickstart.rb" "$app/"
obatch_start_server "$python" "$server" "$work"
export TMPDIR="$app/tmp"
echo "+ ruby quickstart.rb"
(cd "$app" && "$ruby" quickstart.rb) >"$work/quickstart.out" 2>"$work/quickstart.err" ||
  { cat "$work/quickstart.out" "$work/quickstart.err" "$work/server.log"; fail "quickstart.rb failed"; }
obatch_check_quickstart "$work/quickstart.out" "$work/quickstart.err"

# 5. Bundler, with the gem from this checkout as a git: source (Bundler clones
# it and builds the extension; a path: gem would not be compiled: Bundler
# never builds a path: gem's extension). A fresh server and journal: the
# same input would otherwise take up the batch above.
git -C "$source" rev-parse --verify -q HEAD >/dev/null ||
  fail "$source is not a git checkout with a commit: the Bundler step needs one"
obatch_stop_server
obatch_start_server "$python" "$server" "$work/bundled"
unset GEM_HOME GEM_PATH
bapp=$work/bundled/app
mkdir -p "$bapp/tmp"
cd "$bapp"
echo "gem \"obatch\", git: \"$source\", glob: \"bindings/ruby/obatch.gemspec\"" >Gemfile
cp "$gemdir/examples/quickstart.rb" .
echo "+ bundle install --local (Gemfile: $(cat Gemfile))"
BUNDLE_PATH=$work/bundle "$bundle" install --local >"$work/bundle.log" 2>&1 ||
  { cat "$work/bundle.log"; fail "bundle install failed"; }
ext=$(find "$work/bundle" -path '*/lib/obatch/obatch_raw.so' | head -n 1)
[ -n "$ext" ] || { cat "$work/bundle.log"; fail "bundle install built no obatch_raw.so"; }
obatch_check_loads_installed "$ext"
export TMPDIR="$bapp/tmp"
echo "+ bundle exec ruby quickstart.rb"
BUNDLE_PATH=$work/bundle "$bundle" exec "$ruby" quickstart.rb \
  >"$work/bundled.out" 2>"$work/bundled.err" ||
  { cat "$work/bundle.log" "$work/bundled.out" "$work/bundled.err"; fail "bundle exec ruby quickstart.rb failed"; }
obatch_check_quickstart "$work/bundled.out" "$work/bundled.err"
echo "PASS: gem build + gem install into a fresh GEM_HOME, and Bundler with a git: source, both run the quickstart"
