# frozen_string_literal: true

require_relative "test_helper"

# The end-to-end scenario every binding runs against the fake server: build,
# submit, wait with progress, read every result by custom_id, one line
# failing; and a batch that expires with some requests missing.
class TestBatch < Minitest::Test
  include ServerTest

  PHASE_ORDER = Obatch::PHASES

  def test_batch_end_to_end
    server = start_server("steps" => 1, "fail_custom_ids" => ["q3"])
    batch = new_batch(server, model: "gpt-4o-mini", metadata: { project: "ruby-test" })

    ids = []
    ids << batch.add(chat("one"), custom_id: "q1")                        # Hash, default model
    ids << batch.add({ "model" => "gpt-4o-mini", "messages" => [{ "role" => "user", "content" => "two" }] },
                     custom_id: "q2")                                       # Hash with its model
    ids << batch.add('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"three"}]}',
                     custom_id: "q3")                                       # JSON text
    ids << batch.add(chat("vier – ünïcødé"), custom_id: "q4")
    ids << batch.add(chat("five"))                                          # generated id
    assert_equal %w[q1 q2 q3 q4 request-5], ids
    assert_equal 5, batch.info.requests_added
    assert_equal :building, batch.info.phase

    assert_same batch, batch.submit
    progress = []
    info = batch.wait { |p| progress << p }

    # Progress: yielded in order, ends done, saw the provider work.
    refute_empty progress
    assert_equal progress.map(&:phase), progress.map(&:phase).sort_by { |ph| PHASE_ORDER.index(ph) }
    assert_equal :done, progress.last.phase
    assert_includes progress.map(&:phase), :waiting
    assert progress.all? { |p| p.is_a?(Obatch::Info) && p.frozen? }

    # The final info.
    assert info.done?
    assert info.completed?
    refute info.partial?
    assert_equal "completed", info.remote_status
    assert_match(/\Abatch_/, info.batch_id)
    assert_equal "openai", info.provider
    assert_equal "/v1/chat/completions", info.endpoint
    assert_equal [5, 4, 1], [info.requests_total, info.requests_completed, info.requests_failed]
    assert File.file?(info.output_path)
    assert_equal "ruby-test", info.batch.dig("metadata", "project")
    assert_equal info.batch_id, batch.batch_id

    # Every result by custom_id; a Batch is Enumerable over its results.
    results = batch.each_result.to_h { |r| [r.custom_id, r] }
    assert_kind_of Enumerable, batch
    assert_equal ids, batch.map(&:custom_id)
    assert_equal 4, batch.count(&:succeeded?)
    assert_equal %w[q3], batch.reject(&:succeeded?).map(&:custom_id)
    assert_equal ids, results.keys, "input order"
    %w[q1 q2 q4 request-5].each do |id|
      r = results.fetch(id)
      assert r.succeeded?, "#{id}: #{r.kind}"
      assert_equal 200, r.status_code
      assert_equal "echo: #{id}", r.body.dig("choices", 0, "message", "content")
      assert_equal r.body, JSON.parse(r.body_json)
      assert_equal id, JSON.parse(r.raw)["custom_id"]
      assert_equal Encoding::UTF_8, r.raw.encoding
    end
    failed = results.fetch("q3")
    assert failed.http_error?
    refute failed.succeeded?
    assert_equal 400, failed.status_code
    assert_equal "fake_failure", failed.error_code
    assert_match(/q3/, failed.error_message)
    assert_equal "fake_failure", failed.body.dig("error", "code")
    assert_equal (0..4).to_a, results.values.map(&:index)

    # lookup and each_result again (starts over).
    assert_equal results["q4"], batch.lookup("q4")
    assert_equal results["q3"], batch["q3"]
    assert_nil batch.lookup("nope")
    assert_equal ids, batch.results.map(&:custom_id)

    # Exactly one upload and one batch at the provider.
    stats = server.stats
    assert_equal [1, 1], [stats["uploads"], stats["batches_created"]]
  end

  def test_expired_batch_reports_missing_requests
    server = start_server("steps" => 1, "final_status" => "expired", "partial_fraction" => 0.5)
    batch = new_batch(server, model: "gpt-4o-mini")
    ids = (1..4).map { |i| batch.add(chat("n#{i}"), custom_id: "e#{i}") }
    batch.submit
    err = assert_raises(Obatch::ExpiredError) { batch.wait }
    info = err.info
    assert info.done?
    assert info.partial?
    refute info.completed?
    assert_equal "expired", info.remote_status

    results = batch.results
    assert_equal ids, results.map(&:custom_id)
    missing = results.select(&:missing?)
    assert_equal 2, missing.size
    missing.each do |r|
      assert_nil r.body
      assert_nil r.raw
      assert_nil r.status_code
    end
    assert_equal 2, results.count(&:succeeded?)
    assert batch.lookup(missing.first.custom_id).missing?
  end

  def test_each_result_without_a_block_is_an_enumerator
    server = start_server
    batch = new_batch(server, model: "gpt-4o-mini")
    batch << chat("a") << chat("b")
    batch.submit.wait
    enum = batch.each_result
    assert_kind_of Enumerator, enum
    assert_equal %w[request-1 request-2], enum.map(&:custom_id)
    assert_equal %w[request-1], enum.lazy.select(&:succeeded?).first(1).map(&:custom_id)
  end

  def test_add_line_and_add_file
    server = start_server
    batch = new_batch(server)
    line = { custom_id: "l1", method: "POST", url: "/v1/chat/completions",
             body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] } }
    batch.add_line(line)
    path = File.join(work_dir, "in.jsonl")
    File.write(path, [2, 3].map { |i| JSON.generate(line.merge(custom_id: "l#{i}")) }.join("\n") + "\n")
    batch.add_file(path)
    assert_equal "request-4", batch.add(chat("four").merge(model: "gpt-4o-mini"))
    batch.submit.wait
    assert_equal %w[l1 l2 l3 request-4], batch.results.map(&:custom_id)
    assert batch.results.all?(&:succeeded?)
  end

  def test_add_many
    server = start_server
    batch = new_batch(server)
    body = JSON.generate(model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }])
    assert_equal 2, batch.add_many("#{body}\n#{body}\n")
    assert_equal 1, batch.add_many(body, endpoint: "/v1/chat/completions")
    assert_equal 0, batch.add_many("")
    assert_raises(TypeError) { batch.add_many(7) }
    err = assert_raises(Obatch::JSONError) do
      batch.add_many("#{body}\n{\"model\":\"gpt-4o-mini\",\"messages\":[}\n#{body}\n")
    end
    assert_match(/line 2: /, err.message)
    assert_equal "request-4", batch.add(chat("four").merge(model: "gpt-4o-mini"))
    batch.submit.wait
    assert_equal %w[request-1 request-2 request-3 request-4], batch.results.map(&:custom_id)
  end

  def test_open_with_a_block_closes_the_batch
    server = start_server
    kept = nil
    value = Obatch::Batch.open(**server.options, work_dir: work_dir, model: "gpt-4o-mini") do |b|
      kept = b
      b.add(chat("x"))
      :value
    end
    assert_equal :value, value
    assert kept.closed?
    kept.close # idempotent
    err = assert_raises(Obatch::ClosedError) { kept.add(chat("y")) }
    assert_equal(-1, err.code) # EINVAL, as in Node and Go
  end

  def test_resume_by_batch_id
    server = start_server("steps" => 2)
    first = new_batch(server, model: "gpt-4o-mini")
    first.add(chat("r1"), custom_id: "r1")
    first.submit
    batch_id = nil
    100.times do
      batch_id = first.poll(0.2).batch_id
      break if batch_id
    end
    refute_nil batch_id
    first.close

    resumed = Obatch::Batch.resume(batch_id, **server.options, work_dir: work_dir)
    @batches << resumed
    final = resumed.wait
    assert_equal batch_id, final.batch_id
    assert_equal ["r1"], resumed.results.map(&:custom_id)
    assert_equal 1, server.stats["batches_created"]
  end

  def test_list_remote_batches
    server = start_server
    ids = 2.times.map do
      b = new_batch(server, model: "gpt-4o-mini")
      b.add(chat("l"))
      b.submit.wait.batch_id
    end
    page = Obatch.list(**server.options, limit: 10)
    assert_kind_of Obatch::Page, page
    assert_equal ids.reverse, page.map(&:batch_id).first(2), "newest first"
    refute page.has_more?
    assert_equal page.batches, page.to_a, "to_a is the batches, not the struct's members"
    assert_equal page.batches.size, page.size
    assert_equal page.batches, page.select { |i| i.is_a?(Obatch::Info) }
    assert page.all? { |i| i.is_a?(Obatch::Info) && i.remote_status == "completed" }
    first = Obatch.list(**server.options, limit: 1)
    assert first.has_more?
    assert_equal ids.reverse, Obatch.each_batch(**server.options, limit: 1).map(&:batch_id)
  end

  # Result files already on disk (Node: Batch.fromFiles, Go: FromFiles).
  def test_from_files_reads_results_on_disk
    out = File.join(work_dir, "out.jsonl")
    File.write(out, %w[a b].map.with_index do |id, i|
      JSON.generate(id: "r#{i}", custom_id: id, error: nil,
                    response: { status_code: 200, request_id: "x", body: { ok: i } })
    end.join("\n") + "\n")
    batch = Obatch::Batch.from_files(output: out)
    assert_equal %w[a b], batch.map(&:custom_id)
    assert_equal 200, batch.lookup("b").status_code
  ensure
    batch&.close
  end
end
