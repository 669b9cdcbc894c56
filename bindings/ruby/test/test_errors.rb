# frozen_string_literal: true

require_relative "test_helper"

# Error paths: each raises its own Obatch::Error subclass, with the
# library's message and code; nothing is half done.
class TestErrors < Minitest::Test
  include ServerTest

  def test_bad_json_is_a_json_error_and_adds_nothing
    server = start_server
    batch = new_batch(server)
    err = assert_raises(Obatch::JSONError) { batch.add('{"model": "gpt-4o-mini", "messages": [') }
    assert_equal(-4, err.code)
    assert_equal :EJSON, err.code_name
    assert_kind_of Obatch::RequestError, err
    assert_kind_of Obatch::Error, err
    refute_empty err.message
    assert_equal 0, batch.info.requests_added
    # The batch goes on working.
    assert_equal "request-1", batch.add(chat("ok").merge(model: "gpt-4o-mini"))
  end

  def test_limit_exceeded
    server = start_server
    # split: "off": one batch, so a request over its limits is refused.
    batch = new_batch(server, model: "gpt-4o-mini", max_requests: 2, split: "off")
    batch.add(chat("1"))
    batch.add(chat("2"))
    err = assert_raises(Obatch::LimitError) { batch.add(chat("3")) }
    assert_equal(-7, err.code)
    assert_equal :ELIMIT, err.code_name
    assert_match(/2/, err.message)
    assert_equal 2, batch.info.requests_added
    # By default (split: "auto") it goes into a part of its own instead.
    parted = new_batch(server, model: "gpt-4o-mini", max_requests: 2)
    3.times { |i| parted.add(chat(i.to_s)) }
    assert_equal 3, parted.info.requests_added
  end

  def test_unknown_provider
    err = assert_raises(Obatch::ProviderError) do
      Obatch::Batch.new(provider: "no-such-provider", work_dir: work_dir)
    end
    assert_equal(-11, err.code)
    # The library's own message, not only the code's name.
    assert_match(/unknown provider 'no-such-provider' \(known: openai, parasail/, err.message)
  end

  def test_missing_key
    server = start_server
    batch = Obatch::Batch.new(provider: "openai", base_url: server.base_url, work_dir: work_dir,
                              model: "gpt-4o-mini", poll_interval_ms: 20)
    @batches = [batch]
    batch.add(chat("k"))
    err = assert_raises(Obatch::AuthError) do
      batch.submit
      batch.wait(timeout: 30)
    end
    assert_equal(-12, err.code)
    assert_match(/OPENAI_API_KEY/, err.message)
    assert_equal 0, server.stats["uploads"]
  end

  def test_refused_key
    server = start_server
    batch = new_batch(server, model: "gpt-4o-mini", api_key: "wrong-key")
    batch.add(chat("k"))
    batch.submit
    err = assert_raises(Obatch::AuthError) { batch.wait(timeout: 30) }
    refute_includes err.message, "wrong-key"
  end

  def test_config_errors
    err = assert_raises(Obatch::ConfigError) { Obatch::Batch.new(no_such_key: "x") }
    assert_match(/no_such_key/, err.message)
    assert_raises(Obatch::ConfigError) { Obatch::Batch.new(poll_interval_ms: "soon") }
    assert_raises(ArgumentError) { Obatch::Batch.new(metadata: "not a hash") }
  end

  def test_request_errors
    server = start_server
    batch = new_batch(server, model: "gpt-4o-mini", split: "off") # one batch: one model
    batch.add(chat("a"), custom_id: "same")
    assert_raises(Obatch::DuplicateIdError) { batch.add(chat("b"), custom_id: "same") }
    assert_raises(Obatch::InvalidRequestError) { batch.add('{"model":"gpt-4o-mini","stream":true,"messages":[]}') }
    assert_raises(Obatch::ModelError) { batch.add(chat("c").merge(model: "gpt-4o")) }
    assert_raises(TypeError) { batch.add(42) }
    assert_raises(ArgumentError) { batch.add("{\"model\":\"gpt-4o-mini\"}\0garbage") }
    assert_equal 1, batch.info.requests_added
    # By default (split: "auto") a second model makes a part of its own.
    parted = new_batch(server, model: "gpt-4o-mini")
    parted.add(chat("a"))
    parted.add(chat("b").merge(model: "gpt-4o"))
    assert_equal "gpt-4o-mini,gpt-4o", parted.info.model
  end

  def test_phase_errors
    server = start_server
    batch = new_batch(server, model: "gpt-4o-mini")
    assert_raises(Obatch::StateError) { batch.wait }
    assert_raises(Obatch::StateError) { batch.each_result.first }
    batch.add(chat("a"))
    batch.submit
    err = assert_raises(Obatch::StateError) { batch.add(chat("late")) }
    assert_match(/submitted/, err.message)
    batch.wait
    batch.close
    assert_raises(Obatch::ClosedError) { batch.info }
    assert_raises(Obatch::InvalidArgumentError) { batch.wait }
  end

  def test_wait_timeout_leaves_the_batch_running
    server = start_server("steps" => 1000)
    batch = new_batch(server, model: "gpt-4o-mini")
    batch.add(chat("slow"))
    batch.submit
    err = assert_raises(Obatch::TimeoutError) { batch.wait(timeout: 0.3) }
    assert_equal(-17, err.code)
    assert_equal :ETIMEOUT, err.code_name
    # Ruby's own timeouts' class, and still caught as an Obatch::Error.
    assert_kind_of ::Timeout::Error, err
    caught = begin
      batch.wait(timeout: 0.05)
    rescue Obatch::Error => e
      e
    end
    assert_instance_of Obatch::TimeoutError, caught
    refute Obatch::InvalidArgumentError === err
    assert_equal :waiting, batch.info.phase
  end

  def test_failed_batch
    server = start_server("final_status" => "failed")
    batch = new_batch(server, model: "gpt-4o-mini")
    batch.add(chat("f"))
    batch.submit
    err = assert_raises(Obatch::FailedError) { batch.wait }
    assert_kind_of Obatch::BatchEndedError, err
    assert batch.info.failed?
    assert_equal(-19, batch.info.error_code)
    assert_kind_of Obatch::FailedError, batch.info.error
  end

  def test_every_code_has_a_class
    Obatch::CODES.each do |name, code|
      next if code >= 0

      err = Obatch::Error.for(code)
      assert_equal code, err.code
      assert_equal name, err.code_name
      assert_equal Obatch.strerror(code), err.message
      assert_equal Obatch::Raw.const_get("OBATCH_#{name}"), code
    end
    assert_equal Obatch::Error, Obatch::Error.for(-99).class
    assert_equal(-7, Obatch::LimitError.new("x").code)
  end
end
