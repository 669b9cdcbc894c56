# frozen_string_literal: true

require "fileutils"
require_relative "lib/obatch/version"

# The SWIG interface is shared by every binding (bindings/obatch.i includes
# ruby/obatch_ruby.i), so it lives outside this directory; extconf.rb runs SWIG
# on it when the gem is installed. In a checkout, take a fresh copy into
# ext/obatch/swig (git-ignored) for `gem build` to pack; in an unpacked gem
# (Bundler's path:, gem unpack) the copy is already there.
shared_interface = File.expand_path("../obatch.i", __dir__)
if File.file?(shared_interface)
  swig_copy = File.join(__dir__, "ext/obatch/swig")
  FileUtils.mkdir_p(File.join(swig_copy, "ruby"))
  FileUtils.cp(shared_interface, swig_copy)
  FileUtils.cp(File.join(__dir__, "obatch_ruby.i"), File.join(swig_copy, "ruby"))
end

Gem::Specification.new do |spec|
  spec.name = "obatch"
  spec.version = Obatch::VERSION
  spec.summary = "The OpenAI-style Batch API as one call (Ruby binding of libobatch)"
  spec.description = "Add requests, submit, wait (other threads keep running), read every " \
                     "result by custom_id. A thin Ruby layer over libobatch's C API, " \
                     "wrapped by SWIG when the gem is installed."
  spec.authors = ["obatch authors"]
  spec.license = "MIT"
  spec.required_ruby_version = ">= 3.0"

  # The SWIG interface (obatch.i, ruby/obatch_ruby.i) is in ext/obatch/swig
  # (copied above); the wrapper is generated at install time.
  spec.files = Dir.chdir(__dir__) do
    Dir["lib/**/*.rb", "ext/obatch/extconf.rb", "ext/obatch/swig/**/*.i",
        "examples/*.rb", "README.md", "obatch.gemspec"]
  end
  spec.extensions = ["ext/obatch/extconf.rb"]
  spec.require_paths = ["lib"]

  spec.add_development_dependency "minitest", ">= 5"
  spec.add_development_dependency "rake", ">= 12"
end
