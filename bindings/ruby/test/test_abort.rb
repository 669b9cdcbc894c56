# frozen_string_literal: true

require_relative "test_helper"
require "socket"
require "timeout"

# Every remote call can be interrupted (issue 18): Timeout, Thread#kill and
# Ctrl-C act within 100 ms against a server that never answers and against a
# refused port (where the call sits in its back-off), while another thread
# keeps ticking. The C call gets an unblocking function that triggers its
# abort token.
class TestAbort < Minitest::Test
  BOUND = 0.1

  def now = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  # A listening socket that never accepts: the kernel completes the
  # handshake and takes the request, nobody answers.
  def silent_server
    server = TCPServer.new("127.0.0.1", 0)
    @closers << server
    "http://127.0.0.1:#{server.addr[1]}/v1"
  end

  def refused_port
    server = TCPServer.new("127.0.0.1", 0)
    port = server.addr[1]
    server.close
    "http://127.0.0.1:#{port}/v1"
  end

  def setup
    @closers = []
  end

  def teardown
    @closers.each(&:close)
  end

  def options(url)
    { provider: "openai", base_url: url, api_key: "test-key", max_retries: 8 }
  end

  CALLS = {
    list: ->(o) { Obatch.list(**o) },
    retrieve: ->(o) { Obatch.retrieve("batch_1", **o) },
    cancel: ->(o) { Obatch.cancel("batch_1", **o) }
  }.freeze

  # Runs block while a ticker thread counts; [result of block, ticks].
  def with_ticker
    ticks = 0
    stop = false
    ticker = Thread.new do
      until stop
        ticks += 1
        sleep 0.01
      end
    end
    result = yield
    [result, ticks]
  ensure
    stop = true
    ticker&.join
  end

  CALLS.each do |name, call|
    { silent: :silent_server, refused: :refused_port }.each do |kind, server|
      define_method("test_timeout_ends_#{name}_on_a_#{kind}_server") do
        opts = options(send(server))
        t0 = now
        _, ticks = with_ticker do
          assert_raises(Timeout::Error) { Timeout.timeout(0.3) { call.call(opts) } }
        end
        took = now - t0 - 0.3
        assert_operator took, :<=, BOUND, "Timeout acted #{(took * 1000).round} ms late"
        # The GVL was free while the call waited: a call that held it would
        # let the ticker run at most once. (Not 30: a loaded machine, as CI
        # with two jobs is, runs this process far less.)
        assert_operator ticks, :>=, 3, "the ticker ticked #{ticks} times in 300 ms"
      end

      define_method("test_thread_kill_ends_#{name}_on_a_#{kind}_server") do
        opts = options(send(server))
        worker = Thread.new { call.call(opts) }
        sleep 0.3
        assert worker.alive?, "the call returned before the kill"
        t0 = now
        worker.kill
        assert worker.join(2), "Thread#kill was not served"
        took = now - t0
        assert_operator took, :<=, BOUND, "Thread#kill acted after #{(took * 1000).round} ms"
      end
    end
  end

  # Ctrl-C: SIGINT to a Ruby process in the middle of Obatch.list.
  def test_ctrl_c_ends_a_remote_call
    url = silent_server
    script = <<~RUBY
      $LOAD_PATH.unshift(#{ENV.fetch('OBATCH_RUBY_EXT_DIR', '').inspect})
      $LOAD_PATH.unshift(#{File.expand_path('../lib', __dir__).inspect})
      require "obatch"
      $stdout.sync = true
      puts "calling"
      begin
        Obatch.list(provider: "openai", base_url: #{url.inspect}, api_key: "test-key")
      rescue Interrupt
        puts "interrupted"
        exit 42
      end
    RUBY
    IO.popen([RbConfig.ruby, "-e", script], err: File::NULL) do |io|
      assert_equal "calling\n", io.gets
      sleep 0.3
      t0 = now
      Process.kill("INT", io.pid)
      assert_equal "interrupted\n", io.gets
      took = now - t0
      assert_operator took, :<=, BOUND, "Ctrl-C was served after #{(took * 1000).round} ms"
    end
    assert_equal 42, $?.exitstatus
  end

  # After an interrupt the next call works as usual (the token was per call).
  def test_a_call_after_an_interrupt_runs_normally
    opts = options(refused_port)
    assert_raises(Timeout::Error) { Timeout.timeout(0.2) { Obatch.list(**opts) } }
    err = assert_raises(Obatch::NetworkError) { Obatch.list(**opts, max_retries: 0) }
    assert_match(/127\.0\.0\.1/, err.message)
    refute_includes err.message, "test-key"
  end

  # A long check of a file ends too (the library looks at the token every
  # 64 lines).
  def test_timeout_ends_a_long_check_file
    path = File.join(Dir.mktmpdir("obatch-abort-", TEST_TMP), "big.jsonl")
    File.open(path, "w") do |f|
      400_000.times do |i|
        f.puts JSON.generate(custom_id: "r#{i}", method: "POST", url: "/v1/chat/completions",
                             body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "y" * 300 }] })
      end
    end
    t0 = now
    assert_raises(Timeout::Error) { Timeout.timeout(0.02) { Obatch.check_file(path, provider: "openai") } }
    took = now - t0 - 0.02
    assert_operator took, :<=, BOUND, "Timeout acted #{(took * 1000).round} ms late"
  end
end
