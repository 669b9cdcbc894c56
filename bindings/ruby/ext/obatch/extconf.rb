# frozen_string_literal: true

# Builds Obatch::Raw (obatch/obatch_raw.so): runs SWIG on the interface
# (obatch.i + ruby/obatch_ruby.i) into the build directory, then compiles the
# wrapper against libobatch.
#
# libobatch is found by pkg-config (set PKG_CONFIG_PATH=<prefix>/lib/pkgconfig
# for a private prefix), or given with --with-obatch-dir=PREFIX or
# --with-obatch-include=DIR --with-obatch-lib=DIR. The library's directory is
# written into the extension (rpath) unless it is a system directory.
# Other options: --with-swig=PATH (or $SWIG), --with-obatch-swig-dir=DIR
# (where obatch.i is; default: the copy in the gem, else the repository's).
require "mkmf"
require "shellwords"

def abort_with(message)
  abort "extconf.rb: #{message}"
end

# ---- the SWIG interface
swig_dir = with_config("obatch-swig-dir")
swig_dir ||= [File.join(__dir__, "swig"), File.expand_path("../../..", __dir__)].find do |dir|
  File.file?(File.join(dir, "obatch.i")) && File.file?(File.join(dir, "ruby", "obatch_ruby.i"))
end
abort_with "obatch.i not found (build the gem with `gem build obatch.gemspec` in bindings/ruby, or pass --with-obatch-swig-dir)" unless swig_dir

swig = with_config("swig") || ENV["SWIG"] || find_executable("swig") || find_executable("swig4.0")
abort_with "swig not found (Debian: apt-get install swig)" unless swig

# ---- libobatch
explicit = with_config("obatch-dir") || with_config("obatch-include") || with_config("obatch-lib")
_, lib_dirs = dir_config("obatch")
lib_dirs = Array(lib_dirs).flat_map { |d| d.to_s.split(File::PATH_SEPARATOR) }
unless explicit
  find_executable(ENV["PKG_CONFIG"] || "pkg-config") or
    abort_with "pkg-config is not installed (Debian: apt-get install pkg-config), " \
               "or pass --with-obatch-dir=<prefix>"
  pkg_config("obatch") or
    abort_with "`pkg-config obatch` failed: libobatch's development files (obatch.pc, " \
               "obatch/obatch.h, libobatch.so) are not installed where pkg-config looks.\n" \
               "  Debian/Ubuntu: apt-get install libobatch-dev (made from an obatch checkout " \
               "by `dpkg-buildpackage -us -uc -b`)\n" \
               "  From source: cmake -S . -B build && cmake --build build && cmake --install " \
               "build --prefix PREFIX, then install the gem with " \
               "PKG_CONFIG_PATH=PREFIX/lib/pkgconfig (or -- --with-obatch-dir=PREFIX)"
  libdir = pkg_config("obatch", "variable=libdir")
  lib_dirs << libdir if libdir && !libdir.empty?
end
have_header("obatch/obatch.h") or abort_with "obatch/obatch.h not found"
have_library("obatch", "obatch_version", "obatch/obatch.h") or abort_with "libobatch not found"
have_header("ruby/thread.h") or abort_with "ruby/thread.h not found"

lib_dirs.uniq.each do |dir|
  next if dir.empty? || dir.match?(%r{\A/(usr/)?lib(64)?(/|\z)}) # the loader's own

  $LDFLAGS << " -Wl,-rpath,#{Shellwords.escape(File.expand_path(dir))}"
end

# ---- generate the wrapper (into the build directory, never the sources)
include_dirs = Shellwords.split([$INCFLAGS, $CPPFLAGS, $CFLAGS].join(" "))
                         .filter_map { |f| f[2..] if f.start_with?("-I") && f.size > 2 }
include_dirs += %w[/usr/local/include /usr/include]
include_dirs = include_dirs.reject { |d| d.include?("$(") }.uniq
header_dir = include_dirs.find { |d| File.file?(File.join(d, "obatch", "obatch.h")) }
abort_with "obatch/obatch.h not found for SWIG (searched #{include_dirs.join(", ")})" unless header_dir

wrapper = "obatch_raw_wrap.c"
cmd = [swig, "-ruby", "-module", "obatch::raw", "-initname", "obatch_raw",
       "-I#{swig_dir}", "-I#{header_dir}", "-o", wrapper, File.join(swig_dir, "obatch.i")]
message "running #{cmd.shelljoin}\n"
system(*cmd) or abort_with "swig failed"

$srcs = [wrapper]
$objs = ["obatch_raw_wrap.o"]
$distcleanfiles << wrapper # not clean: RubyGems runs `make clean` before `make`
# SWIG's output is not warning-clean; keep the build quiet.
$CFLAGS << " -Wno-unused-parameter -Wno-missing-field-initializers"

create_makefile("obatch/obatch_raw")
