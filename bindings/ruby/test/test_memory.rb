# frozen_string_literal: true

require_relative "test_helper"

# Handles are freed exactly once: by close, or by the garbage collector when
# a batch is forgotten; loops of create/add/destroy do not grow.
class TestMemory < Minitest::Test
  include ServerTest

  def rss_kb
    File.read("/proc/self/status")[/^VmRSS:\s+(\d+)/, 1].to_i
  end

  def settle
    3.times { GC.start(full_mark: true, immediate_sweep: true) }
  end

  def churn(count, close:)
    count.times do |i|
      b = Obatch::Batch.new(provider: "openai", api_key: "k", base_url: "http://127.0.0.1:9/v1",
                            work_dir: work_dir, model: "gpt-4o-mini")
      b.add({ messages: [{ role: "user", content: "leak check #{i}" * 8 }] }, custom_id: "id-#{i}")
      b.add('{"model": "gpt-4o-mini", "messages": [')
    rescue Obatch::JSONError
      b.close if close
    end
  end

  def test_create_add_destroy_does_not_grow
    skip "needs /proc" unless File.exist?("/proc/self/status")
    n = Integer(ENV.fetch("OBATCH_LEAK_ITERATIONS", "4000"))
    # Warm up both ways (allocator arenas, the Ruby heap): the first GC-freed
    # round grows the heap once, by a few MB, however many rounds follow.
    churn(500, close: true)
    churn(n / 4, close: false)
    settle
    before = rss_kb
    churn(n, close: true)
    churn(n / 4, close: false) # freed by the GC
    settle
    after = rss_kb
    growth = after - before
    puts "\n  leak check: #{n + n / 4} batches, RSS #{before} kB -> #{after} kB (#{growth >= 0 ? "+" : ""}#{growth} kB)"
    assert_operator growth, :<, 8 * 1024, "RSS grew by #{growth} kB over #{n} batches"
  end

  def test_the_gc_destroys_forgotten_batches
    dir = Dir.mktmpdir("obatch-gc-", TEST_TMP)
    create = lambda do
      20.times do |i|
        b = Obatch::Batch.new(provider: "openai", api_key: "k", base_url: "http://127.0.0.1:9/v1",
                              work_dir: dir, model: "gpt-4o-mini")
        b.add({ messages: [{ role: "user", content: "gc #{i}" }] })
      end
      nil
    end
    create.call
    assert_equal 20, Dir.glob(File.join(dir, "*.jsonl")).size, "each batch has its input file"
    settle
    left = Dir.glob(File.join(dir, "*.jsonl")).size
    assert_operator left, :<=, 3, "the GC freed #{20 - left} of 20 forgotten batches"
  end

  def test_close_then_gc_frees_once
    server = start_server
    50.times do
      b = new_batch(server, model: "gpt-4o-mini")
      b.add(chat("x"))
      b.close
      b.close
    end
    @batches.clear
    settle # would crash on a double free
    assert true
  end

  def test_raw_handles_are_destroyed_once
    rc, conf = Obatch::Raw.obatch_config_new
    assert_equal 0, rc
    Obatch::Raw.obatch_config_set(conf, "provider", "openai")
    assert_equal "openai", Obatch::Raw.obatch_config_get(conf, "provider")
    assert_nil Obatch::Raw.obatch_config_get(conf, "api_key")
    rc, handle = Obatch::Raw.obatch_create(conf)
    assert_equal 0, rc
    Obatch::Raw.obatch_config_destroy(conf)
    Obatch::Raw.obatch_destroy(handle)
    # A destroyed handle is refused, never touched: no double free, no use after free.
    assert_raises(RuntimeError) { Obatch::Raw.obatch_destroy(handle) } # "not owned": released
    [-> { Obatch::Raw.obatch_info(handle) },
     -> { Obatch::Raw.obatch_config_get(conf, "provider") }].each do |call|
      err = assert_raises(RuntimeError, &call)
      assert_equal "ObjectPreviouslyDeleted", err.class.name # SWIG's
    end
    Obatch::Raw.obatch_destroy(nil) # NULL is fine
    settle
  end

  def test_result_reading_does_not_grow
    skip "needs /proc" unless File.exist?("/proc/self/status")
    server = start_server
    batch = new_batch(server, model: "gpt-4o-mini")
    20.times { |i| batch.add(chat("r#{i}")) }
    batch.submit.wait
    50.times { batch.results }
    settle
    before = rss_kb
    500.times { batch.results; batch.lookup("request-7"); batch.info }
    settle
    growth = rss_kb - before
    assert_operator growth, :<, 4 * 1024, "RSS grew by #{growth} kB reading results"
  end
end
