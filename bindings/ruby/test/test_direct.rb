# frozen_string_literal: true

require_relative "test_helper"

# Direct mode, the same in Node, Go and Ruby: each request sent as a normal
# request (POST /v1/chat/completions), also to a server without a Batch API,
# with the results in the batch format, in input order; mode: "auto" picks
# direct for a small job and batch for a bigger one; rpm: keeps under the
# server's limit.
class TestDirect < Minitest::Test
  include ServerTest

  IDS = (1..12).map { |i| "d#{i}" }.freeze

  # A batch in direct mode (or as mode: says) with no journal: each case
  # starts its own server, on ports that may repeat.
  def new_direct(server, **options)
    new_batch(server, model: "gpt-4o-mini", state: "off", **options)
  end

  def text_of(id) = id == "d7" ? "question #{id} FAIL400" : "question #{id}"

  def test_direct_mode_against_a_server_without_a_batch_api
    server = start_server("no_batch_api" => true, "direct_latency_ms" => 150)
    batch = new_direct(server, mode: "direct", concurrency: 4)
    IDS.each { |id| batch.add(chat(text_of(id)), custom_id: id) }
    assert_match(/\(not submitted\) 12 requests>\z/, batch.inspect)

    batch.submit
    in_flight = []
    info = batch.wait { |p| in_flight << p.requests_in_flight }

    assert_equal "direct", info.mode
    assert info.direct?
    refute_nil info.mode_reason
    refute_empty info.mode_reason
    assert info.done?, info.inspect
    assert info.completed?
    assert_equal "completed", info.remote_status
    assert_nil info.batch_id
    assert_nil batch.batch_id
    assert_nil info.input_file_id
    assert_nil info.output_file_id
    assert_equal [12, 11, 1, 0],
                 [info.requests_added, info.requests_completed, info.requests_failed,
                  info.requests_in_flight]
    assert_equal 0, info.requests_retried
    assert_equal 0, info.responses_429
    # Progress while it ran: requests in flight, never more than concurrency.
    assert_operator in_flight.max, :>, 0, in_flight.inspect
    assert_operator in_flight.max, :<=, 4, in_flight.inspect
    assert_match(/\A#<Obatch::Batch done direct 12 requests>\z/, batch.inspect)

    # Every result once, in input order: the echo of its own text, d7 a 400.
    results = batch.results
    assert_equal IDS, results.map(&:custom_id)
    assert_equal (0..11).to_a, results.map(&:index)
    results.each do |r|
      if r.custom_id == "d7"
        assert r.http_error?, r.inspect
        assert_equal 400, r.status_code
        assert_equal "fake_failure", r.body.dig("error", "code"), r.body_json
      else
        assert r.succeeded?, r.inspect
        assert_equal 200, r.status_code
        assert_equal "echo: #{text_of(r.custom_id)}",
                     r.body.dig("choices", 0, "message", "content"), r.body_json
      end
    end
    assert_equal 400, batch.lookup("d7").status_code
    assert_equal "echo: question d12", batch["d12"].body.dig("choices", 0, "message", "content")

    # The batch format's files: 2xx answers in the output, the rest in the errors.
    output = File.readlines(info.output_path)
    errors = File.readlines(info.error_path)
    assert_equal 11, output.size
    assert_equal 1, errors.size
    assert_equal IDS - ["d7"], output.map { |l| JSON.parse(l)["custom_id"] }.sort_by { |id| id[1..].to_i }
    assert_equal "d7", JSON.parse(errors[0])["custom_id"]

    # The usage is the answers' own; the job is one part.
    usage = output.map { |l| JSON.parse(l).dig("response", "body", "usage") }
    assert_operator info.input_tokens, :>, 0
    assert_equal usage.sum { |u| u["prompt_tokens"] }, info.input_tokens
    assert_equal usage.sum { |u| u["completion_tokens"] }, info.output_tokens
    assert_equal info.input_tokens + info.output_tokens, info.total_tokens
    assert_equal [1, 1, 1, 0],
                 [info.parts_total, info.parts_submitted, info.parts_ended, info.parts_running]

    # The server saw normal requests only, at most 4 at once.
    stats = server.stats
    assert_equal 12, stats["direct_requests"]
    assert_equal({ "200" => 11, "400" => 1 }, stats["direct_statuses"])
    assert_operator stats["direct_in_flight_peak"], :<=, 4
    assert_operator stats["direct_in_flight_peak"], :>=, 2
    assert_equal [0, 0], [stats["uploads"], stats["batches_created"]]
  end

  # The same input submitted again through the same journal once its job
  # has ended: nothing is sent again; the counts and usage are the first run's.
  def test_a_finished_direct_job_submitted_again
    server = start_server("no_batch_api" => true)
    state = File.join(work_dir, "state", "jobs.db")
    ids = %w[d1 d7 d3]
    run = lambda do
      batch = new_batch(server, model: "gpt-4o-mini", state: state, mode: "direct")
      ids.each { |id| batch.add(chat(text_of(id)), custom_id: id) }
      [batch, batch.submit.wait]
    end
    _, first = run.call
    batch, again = run.call

    assert_equal [2, 1], [first.requests_completed, first.requests_failed]
    assert_operator first.input_tokens, :>, 0
    assert_equal first.job_id, again.job_id
    keys = %i[requests_completed requests_failed input_tokens output_tokens total_tokens]
    assert_equal keys.map { |k| first[k] }, keys.map { |k| again[k] }
    assert_equal ids, batch.results.map(&:custom_id)
    assert_equal 400, batch["d7"].status_code
    assert_equal 3, server.stats["direct_requests"]
  end

  def test_auto_sends_a_small_job_direct
    server = start_server("no_batch_api" => true)
    batch = new_direct(server, mode: "auto", direct_below: 5)
    ids = %w[a1 a2 a3].each { |id| batch.add(chat("small #{id}"), custom_id: id) }
    info = batch.submit.wait

    assert_equal "direct", info.mode
    assert_match(/3 requests, fewer than direct_below 5/, info.mode_reason)
    assert info.completed?, info.inspect
    assert_nil info.batch_id
    assert_equal [3, 0, 0], [info.requests_completed, info.requests_failed, info.requests_in_flight]
    results = batch.results
    assert_equal ids, results.map(&:custom_id)
    assert_equal ids.map { |id| "echo: small #{id}" },
                 results.map { |r| r.body.dig("choices", 0, "message", "content") }
    assert_equal 3, server.stats["direct_requests"]
  end

  def test_auto_sends_a_bigger_job_as_a_batch
    server = start_server("steps" => 1)
    batch = new_direct(server, mode: "auto", direct_below: 5)
    ids = (1..6).map { |i| "b#{i}" }.each { |id| batch.add(chat("big #{id}"), custom_id: id) }
    info = batch.submit.wait

    assert_equal "batch", info.mode
    refute info.direct?
    assert_match(/6 requests, at least direct_below 5/, info.mode_reason)
    assert info.completed?, info.inspect
    assert_match(/\Abatch_/, info.batch_id)
    assert_equal [6, 6, 0], [info.requests_total, info.requests_completed, info.requests_failed]
    assert_equal [0, 0, 0], [info.requests_in_flight, info.responses_429, info.rpm_limit]
    results = batch.results
    assert_equal ids, results.map(&:custom_id)
    assert results.all?(&:succeeded?), results.map(&:kind).inspect
    stats = server.stats
    assert_equal [1, 0], [stats["batches_created"], stats["direct_requests"]]
  end

  def test_auto_with_a_deadline_shorter_than_the_window_goes_direct
    server = start_server("no_batch_api" => true)
    batch = new_direct(server, mode: "auto", direct_below: 1, deadline: "1h")
    %w[t1 t2].each { |id| batch.add(chat("soon #{id}"), custom_id: id) }
    info = batch.submit.wait

    assert_equal "direct", info.mode
    assert_match(/deadline 1h/, info.mode_reason)
    assert info.completed?, info.inspect
    assert_equal %w[t1 t2], batch.results.map(&:custom_id)
  end

  def test_rpm_keeps_under_the_servers_limit
    server = start_server("no_batch_api" => true, "direct_rpm" => 600)
    batch = new_direct(server, mode: "direct", rpm: 600)
    ids = (1..10).map { |i| "r#{i}" }.each { |id| batch.add(chat("paced #{id}"), custom_id: id) }
    info = batch.submit.wait

    assert info.completed?, info.inspect
    assert_equal [10, 0], [info.requests_completed, info.requests_failed]
    assert_equal 0, info.responses_429
    assert_equal 0, info.requests_retried
    # The limit followed: the lower of rpm: and the server's (600 both).
    assert_operator info.rpm_limit, :>, 0
    assert_operator info.rpm_limit, :<=, 600
    assert_equal 0, info.tpm_limit # none set, none told
    # All 10 sent within the last minute.
    assert_equal 10, info.requests_per_minute
    assert_operator info.tokens_per_minute, :>, 0
    assert_equal ids, batch.results.map(&:custom_id)
    stats = server.stats
    assert_equal [10, 0], [stats["direct_requests"], stats["direct_429s"]]
  end

  def test_a_refused_key_stops_the_job
    server = start_server("no_batch_api" => true)
    batch = new_direct(server, mode: "direct", api_key: "wrong-key")
    %w[k1 k2 k3].each { |id| batch.add(chat("key #{id}"), custom_id: id) }
    batch.submit
    error = assert_raises(Obatch::AuthError) { batch.wait(timeout: 30) }
    assert_match(/401/, error.message)
    info = batch.info
    assert info.failed?
    assert_equal "direct", info.mode
    assert_kind_of Obatch::AuthError, info.error
    assert_equal [0, 0, 0], [info.requests_completed, info.requests_failed, info.requests_in_flight]
    assert_raises(Obatch::StateError) { batch.results }
  end

  def test_direct_mode_options_reach_the_library
    server = start_server("no_batch_api" => true)
    { mode: "sideways", concurrency: 0, deadline: "soon", rpm: "many", tpm: -1,
      direct_below: "few" }.each do |key, value|
      assert_raises(Obatch::ConfigError, "#{key}: #{value.inspect}") do
        new_direct(server, key => value)
      end
    end
  end
end
