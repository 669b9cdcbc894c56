# frozen_string_literal: true

require_relative "lib/obatch/version"

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

  # The SWIG interface (obatch.i, ruby/obatch_ruby.i) is copied into
  # ext/obatch/swig by `rake gem`; the wrapper is generated at install time.
  spec.files = Dir.chdir(__dir__) do
    Dir["lib/**/*.rb", "ext/obatch/extconf.rb", "ext/obatch/swig/**/*.i",
        "examples/*.rb", "README.md", "obatch.gemspec"]
  end
  spec.extensions = ["ext/obatch/extconf.rb"]
  spec.require_paths = ["lib"]

  spec.add_development_dependency "minitest", ">= 5"
  spec.add_development_dependency "rake", ">= 12"
end
