# frozen_string_literal: true

require_relative "test_helper"
require "open3"
require "securerandom"
require "uri"

# Deferred requests (Obatch::Queue) end to end against the local fake Batch
# server: the scenario every binding runs (Node, Go, Ruby), on a SQLite store
# and, when OBATCH_TEST_PG_URI names a server, on a fresh PostgreSQL
# database. 20 puts (two of the same request: one ticket), worker steps until
# every request completed with its own answer (the fake server echoes the
# custom_id, which is the ticket), and the errors: a bad body, an unknown
# ticket, a wait that runs out of time, a client id used twice.
class TestQueue < Minitest::Test
  include ServerTest

  PG_URI = ENV.fetch("OBATCH_TEST_PG_URI", "")
  PG_REQUIRED = ENV["OBATCH_TEST_PG_REQUIRED"] == "1"

  def now = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  def chat_body(text) = { model: "gpt-4o-mini", messages: [{ role: "user", content: text }] }

  def assert_error(klass, *words)
    error = assert_raises(klass) { yield }
    words.each { |w| assert_includes error.message, w }
    error
  end

  def scenario(store)
    server = start_server("steps" => 1)
    started = Time.now
    Obatch::Queue.open(store: store, **server.options, work_dir: work_dir,
                       state: File.join(work_dir, "jobs.db"), flush_age: "1s") do |q|
      assert_equal store, q.store

      # 20 puts: 19 requests, then the first one again (as JSON text, its
      # keys in another order): the same ticket, stored once.
      tickets = (0...19).map { |i| q.put(chat_body("q #{i}")) }
      tickets << q.put('{"messages":[{"content":"q 0","role":"user"}],"model":"gpt-4o-mini"}')
      assert_equal 20, tickets.size
      assert_equal tickets[0], tickets[19]
      unique = tickets.uniq
      assert_equal 19, unique.size
      unique.each { |t| assert_match(/\Aobq_[0-9a-f]{32}\z/, t) }

      queued = q.get(tickets[3])
      assert_instance_of Obatch::QueueEntry, queued
      assert queued.frozen?
      assert_equal tickets[3], queued.ticket
      assert_equal :queued, queued.state
      assert queued.queued?
      refute queued.ended?
      assert_equal ["openai", "/v1/chat/completions", "gpt-4o-mini"],
                   [queued.provider, queued.endpoint, queued.model]
      assert_nil queued.status_code
      assert_nil queued.body
      assert_nil queued.error_code
      assert_nil queued.batch_id
      assert_equal 0, queued.attempts
      assert_in_delta started.to_f, queued.created_at.to_f, 5
      assert_nil queued.submitted_at
      assert_nil queued.ended_at
      stats = q.stats
      assert_equal [19, 0], [stats.queued, stats.completed]
      assert_operator stats.oldest_queued_at, :<=, queued.created_at

      # Worker steps until every request completed; another thread runs meanwhile.
      ticks = 0
      ticker = Thread.new { loop { ticks += 1; sleep 0.005 } }
      flushed = stored = 0
      deadline = now + 60
      begin
        while stats.completed < 19
          flunk "not every request completed within 60 s: #{stats.to_h}" if now > deadline
          stats = q.work(timeout: 0.2)
          flushed += stats.flushed
          stored += stats.stored
        end
      ensure
        ticker.kill
      end
      assert_equal [19, 19], [flushed, stored]
      assert_equal [0, 0, 0, 0], [stats.queued, stats.submitted, stats.failed, stats.expired]
      assert_operator ticks, :>, 20, "another Ruby thread ran while the worker stepped"

      # Every answer is the request's own.
      batches = unique.map do |ticket|
        e = q.get(ticket)
        assert e.completed?, "#{ticket}: #{e.state}"
        assert e.ended?
        assert_equal 200, e.status_code
        assert_equal "echo: #{ticket}", e.body.dig("choices", 0, "message", "content")
        assert_equal e.body, JSON.parse(e.body_json)
        assert_nil e.error_code
        assert_match(/\Abatch_/, e.batch_id)
        assert_equal 1, e.attempts
        assert_operator e.created_at, :<=, e.submitted_at
        assert_operator e.submitted_at, :<=, e.ended_at
        e.batch_id
      end
      assert_equal 1, batches.uniq.size, "one flush, one batch"
      assert_equal 1, server.stats["batches"].size

      # wait on a completed request returns at once.
      t0 = now
      done = q.wait(tickets[19], timeout: 10)
      assert_operator now - t0, :<, 1.0
      assert done.completed?
      assert_equal "echo: #{tickets[0]}", done.body.dig("choices", 0, "message", "content")

      # Bad bodies are refused with the library's message, naming the field.
      assert_error(Obatch::InvalidRequestError, "messages") { q.put({ model: "gpt-4o-mini", messages: "hi" }) }
      assert_error(Obatch::InvalidRequestError, "model") { q.put({ messages: [{ role: "user", content: "x" }] }) }
      assert_error(Obatch::JSONError, "JSON") { q.put('{"model": "gpt-4o-mini", "messages": ') }

      # An unknown ticket.
      assert_error(Obatch::NotFoundError, "obq_nosuch") { q.get("obq_nosuch") }
      assert_error(Obatch::NotFoundError, "obq_nosuch") { q.wait("obq_nosuch", timeout: 1) }

      # A client id is the ticket: the same request again is fine, another one is not.
      2.times { assert_equal "mine-1", q.put(chat_body("a"), id: "mine-1") }
      assert_error(Obatch::DuplicateIdError, "mine-1", "unique") { q.put(chat_body("b"), id: "mine-1") }

      # A short wait on a queued request runs out of time.
      t1 = now
      error = assert_error(Obatch::TimeoutError, "mine-1", "queued") { q.wait("mine-1", timeout: 0.3) }
      assert_operator now - t1, :>=, 0.25
      assert_operator now - t1, :<, 5
      assert_equal "mine-1", error.entry.ticket
      assert_equal :queued, error.entry.state

      # Nothing refused was stored.
      stats = q.stats
      assert_equal [1, 19, 0], [stats.queued, stats.completed, stats.flushed]

      q.close
      assert q.closed?
      q.close # idempotent
      assert_error(Obatch::ClosedError, "closed") { q.get(tickets[0]) }
    end
  end

  def test_queue_on_sqlite
    scenario(File.join(work_dir, "queue.db"))
  end

  def psql(uri, sql)
    out, status = Open3.capture2e("psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", uri, "-c", sql)
    assert status.success?, "psql #{sql}: #{out}"
  end

  def test_queue_on_postgres
    if PG_URI.empty?
      flunk "OBATCH_TEST_PG_REQUIRED=1 but OBATCH_TEST_PG_URI is not set" if PG_REQUIRED
      skip "no PostgreSQL server: set OBATCH_TEST_PG_URI (scripts/pg-test-server.sh starts one)"
    end
    name = "obatch_ruby_#{SecureRandom.hex(6)}"
    psql(PG_URI, "CREATE DATABASE #{name}")
    begin
      uri = URI.parse(PG_URI)
      uri.path = "/#{name}"
      scenario(uri.to_s)
    ensure
      psql(PG_URI, "DROP DATABASE IF EXISTS #{name} WITH (FORCE)")
    end
  end

  def test_open_errors_and_bad_arguments
    file = File.join(work_dir, "a-file")
    File.write(file, "")
    # A store under a regular file: the library's own message names it.
    assert_error(Obatch::FileError, file) { Obatch::Queue.new(store: File.join(file, "queue.db"), provider: "openai") }
    store = File.join(work_dir, "q.db")
    assert_error(Obatch::ConfigError, "flush_age", "soon") { Obatch::Queue.new(store: store, flush_age: "soon") }
    refute File.exist?(store), "a bad config made the store"
    assert_raises(Obatch::ConfigError) { Obatch::Queue.new(store: store, no_such_key: 1) }
    value = Obatch::Queue.open(store: store, provider: "openai", api_key: "k", flush_requests: 5) do |q|
      assert_raises(TypeError) { q.get(42) }
      assert_raises(TypeError) { q.put(42) }
      :block_value
    end
    assert_equal :block_value, value
  end

  # A wait of a queued request does not hold the GVL, and Thread#raise ends it.
  def test_thread_raise_interrupts_wait
    Obatch::Queue.open(store: File.join(work_dir, "q.db"), provider: "openai", api_key: "k") do |q|
      ticket = q.put(chat_body("w"))
      waiter = Thread.new do
        Thread.current.report_on_exception = false
        q.wait(ticket)
      end
      sleep 0.3
      t = now
      waiter.raise(Interrupt)
      assert_raises(Interrupt) { waiter.join }
      assert_operator now - t, :<, 2.0
      assert_equal :queued, q.get(ticket).state
    end
  end
end
