# frozen_string_literal: true

require_relative "test_helper"

# The common scenario with Anthropic's Message Batches through the Ruby
# binding: requests inline, the key in x-api-key, a custom_id outside
# Anthropic's alphabet given back as it was, an errored request in the error
# file, results in input order.
class TestAnthropic < Minitest::Test
  include ServerTest

  def claude_message(text)
    { "model" => "claude-sonnet-4-5", "max_tokens" => 16,
      "messages" => [{ "role" => "user", "content" => text }] }
  end

  def test_anthropic_end_to_end
    server = start_server("steps" => 1, "fail_custom_ids" => ["m2"])
    batch = Obatch::Batch.new(provider: "anthropic", base_url: server.root, api_key: FakeServer::KEY,
                              poll_interval_ms: 20, poll_max_interval_ms: 50, work_dir: work_dir)
    (@batches ||= []) << batch
    ids = [batch.add(claude_message("one"), custom_id: "m1"),
           batch.add(claude_message("two"), custom_id: "m2"),
           batch.add(claude_message("three"), custom_id: "not valid: spaces & colons")]
    info = batch.submit.wait
    assert info.completed?, info.inspect
    assert_equal "anthropic", info.provider
    assert_match(/\Amsgbatch_/, info.batch_id)
    assert_equal "ended", info.batch["processing_status"]
    assert_equal [3, 2, 1], [info.requests_total, info.requests_completed, info.requests_failed]

    results = batch.each_result.to_a
    assert_equal ids, results.map(&:custom_id), "input order, the user's own ids"
    assert results[0].succeeded?
    assert_equal "message", results[0].body["type"]
    refute results[1].succeeded?
    assert_equal 400, results[1].status_code
    assert_equal "invalid_request_error", results[1].error_code
    assert results[2].succeeded?

    requests = server.stats["requests"]
    refute_empty requests
    assert requests.all? { |r| r["authorization"].nil? && r["x_api_key"] == FakeServer::KEY }
    assert_equal 0, server.stats["uploads"]
  end
end
