# frozen_string_literal: true

require_relative "test_helper"
require "open3"

# The README's Ruby example (examples/quickstart.rb), run unchanged against
# the fake server, so the example users copy really works.
class TestExample < Minitest::Test
  include ServerTest

  EXAMPLE = File.expand_path("../examples/quickstart.rb", __dir__)

  def test_quickstart_runs_against_a_batch_server
    server = start_server("steps" => 1)
    env = { "OPENAI_API_KEY" => FakeServer::KEY, "OPENAI_BASE_URL" => server.base_url,
            "TMPDIR" => work_dir }
    # The same obatch as this test: the lib/ next to it and the built extension.
    args = [File.expand_path("../lib", __dir__), ENV["OBATCH_RUBY_EXT_DIR"]]
           .compact.reject(&:empty?).flat_map { |dir| ["-I", dir] }
    out, err, status = Open3.capture3(env, RbConfig.ruby, *args, EXAMPLE, chdir: work_dir)
    assert status.success?, err
    assert_match(/^batch batch_\w+ completed; output in /, out)
    rows = out.scan(/^(request-\d) -> (\d+) /)
    assert_equal [%w[request-1 200], %w[request-2 200], %w[request-3 200]], rows
    assert_match(/waiting/, err) # the progress lines
    refute_includes out + err, FakeServer::KEY
    stats = server.stats
    assert_equal [1, 1], [stats["uploads"], stats["batches_created"]]
  end
end
