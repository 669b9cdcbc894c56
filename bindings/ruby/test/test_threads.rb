# frozen_string_literal: true

require_relative "test_helper"

# Waiting releases the GVL: other Ruby threads keep running.
class TestThreads < Minitest::Test
  include ServerTest

  def now = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  # Records when a second thread runs, while the block runs.
  def ticks_during
    ticks = Queue.new
    stop = false
    ticker = Thread.new do
      until stop
        ticks << now
        sleep 0.005
      end
    end
    sleep 0.05 # the ticker is running
    t0 = now
    yield
    t1 = now
    stop = true
    ticker.join
    stamps = []
    stamps << ticks.pop until ticks.empty?
    [t0, t1, stamps.select { |t| t > t0 && t < t1 }]
  end

  # One raw poll that blocks for 400 ms: with the GVL held no other thread
  # could run at all inside it; without, the ticker runs all along.
  def test_a_blocking_poll_does_not_hold_the_gvl
    server = start_server("steps" => 1000)
    batch = new_batch(server, model: "gpt-4o-mini", poll_interval_ms: 5000, poll_max_interval_ms: 5000)
    batch.add(chat("x"))
    batch.submit
    sleep 0.01 until batch.info.phase == :waiting
    handle = batch.instance_variable_get(:@handle)

    t0, t1, inside = ticks_during { Obatch::Raw.obatch_poll(handle, 400) }
    skip "the poll returned early (#{t1 - t0} s)" if t1 - t0 < 0.3
    middle = inside.select { |t| t > t0 + 0.1 && t < t1 - 0.1 }
    refute_empty middle, "no other thread ran during a #{(t1 - t0).round(3)} s poll"
    assert_operator middle.size, :>=, 5
  end

  def test_other_threads_run_while_wait_runs
    server = start_server("steps" => 4)
    batch = new_batch(server, model: "gpt-4o-mini")
    3.times { |i| batch.add(chat("t#{i}")) }
    batch.submit
    info = nil
    t0, t1, inside = ticks_during { info = batch.wait }
    assert info.completed?
    expected = ((t1 - t0) / 0.005 * 0.2).floor # a fifth of what an idle machine does
    assert_operator inside.size, :>=, [expected, 3].min,
                    "the other thread ran #{inside.size} times in #{(t1 - t0).round(3)} s"
  end

  def test_cancel_from_another_thread_while_waiting
    server = start_server("steps" => 1000, "partial_fraction" => 0.0)
    batch = new_batch(server, model: "gpt-4o-mini")
    batch.add(chat("c1"), custom_id: "c1")
    batch.submit
    canceller = Thread.new do
      Thread.current.report_on_exception = false
      sleep 0.01 until batch.info.phase == :waiting
      sleep 0.1
      batch.cancel
      sleep 0.1
      server.configure("steps" => 1) # let "cancelling" pass quickly
    end
    info = assert_raises(Obatch::CancelledError) { batch.wait(timeout: 30) }.info
    canceller.join
    assert_equal "cancelled", info.remote_status
    assert info.partial?
    assert batch.lookup("c1").missing?
  end

  def test_thread_raise_interrupts_wait
    server = start_server("steps" => 1000)
    batch = new_batch(server, model: "gpt-4o-mini")
    batch.add(chat("i"))
    batch.submit
    waiter = Thread.new do
      Thread.current.report_on_exception = false
      batch.wait
    end
    sleep 0.3
    t = now
    waiter.raise(Interrupt)
    assert_raises(Interrupt) { waiter.join }
    assert_operator now - t, :<, 2.0
    refute batch.closed?
  end
end
