# frozen_string_literal: true

require_relative "test_helper"

# Jobs of several batches ("parts"), the same in Node, Go and Ruby: an input
# over the server's 3 requests per file, with max_requests: 3, runs as 4
# batches of 3, 3, 3 and 1; every result comes back in input order; each
# part has its own batch; a job of one batch has one part.
class TestParts < Minitest::Test
  include ServerTest

  IDS = (1..10).map { |i| "p#{i}" }.freeze

  def test_ten_requests_with_max_requests_3_run_as_4_batches_in_input_order
    server = start_server("steps" => 1, "max_requests_per_file" => 3)
    state = File.join(work_dir, "state", "jobs.db")
    batch = new_batch(server, model: "gpt-4o-mini", max_requests: 3, state: state)
    IDS.each { |id| batch.add(chat("part #{id}"), custom_id: id) }
    assert_equal [], batch.parts, "no parts before submit"

    assert_equal 4, batch.submit.info.parts_total
    ended = []
    info = batch.wait { |p| ended << p.parts_ended }

    assert info.completed?
    assert info.parted?
    assert_nil info.batch_id # the job's: see parts
    assert_nil batch.batch_id
    assert_equal [4, 4, 4, 0, 0],
                 [info.parts_total, info.parts_submitted, info.parts_ended, info.parts_failed,
                  info.parts_running]
    assert_operator info.tokens_estimated, :>, 0
    assert_equal 0, info.tokens_enqueued
    assert_equal [10, 10, 10], [info.requests_added, info.requests_total, info.requests_completed]
    assert_equal 4, ended.last
    assert_equal ended.sort, ended, "parts_ended only grows"
    assert_match(/4 batches 10 requests/, batch.inspect)

    # Every result, fetched in input order, from the one merged output.
    results = batch.results
    assert_equal IDS, results.map(&:custom_id)
    assert_equal (0..9).to_a, results.map(&:index)
    assert results.all?(&:succeeded?), results.map(&:kind).inspect
    assert_equal 9, batch.lookup("p10").index
    assert_equal IDS, File.readlines(info.output_path).map { |l| JSON.parse(l)["custom_id"] }

    # Each part: its own batch, its requests.
    parts = batch.parts
    assert parts.frozen?
    assert_equal [0, 1, 2, 3], parts.map(&:index)
    assert_equal [3, 3, 3, 1], parts.map(&:requests_added)
    parts.each do |p|
      assert_kind_of Obatch::PartInfo, p
      assert p.frozen?
      assert_match(/\Abatch_/, p.batch_id)
      assert p.completed?, p.inspect
      assert_equal "gpt-4o-mini", p.model
      assert_equal [p.requests_added, 0], [p.requests_completed, p.requests_failed]
      assert_nil p.error_message
      assert_operator p.bytes_total, :>, 0
      assert_operator p.tokens_estimated, :>, 0
    end
    assert_equal 4, parts.map(&:batch_id).uniq.size
    assert_equal info.tokens_estimated, parts.sum(&:tokens_estimated)
    stats = server.stats
    assert_equal [4, 4], [stats["batches_created"], stats["uploads"]]
    assert_equal parts.map(&:batch_id).sort, stats["batches"].map { |b| b["id"] }.sort

    # The journal's job lists the same batches.
    jobs = Obatch.jobs(state: state)
    assert_equal 1, jobs.size
    job = jobs.first
    assert_equal 4, job.parts
    assert_equal parts.map(&:batch_id), job.part_list.map { |p| p["batch_id"] }
    assert_equal [3, 3, 3, 1], job.part_list.map { |p| p["requests"] }
  end

  def test_a_job_of_one_batch_has_parts_total_1
    server = start_server("steps" => 1, "max_requests_per_file" => 3)
    batch = new_batch(server, model: "gpt-4o-mini", max_requests: 3)
    ids = %w[s1 s2 s3].each { |id| batch.add(chat("single #{id}"), custom_id: id) }
    info = batch.submit.wait
    assert_equal [1, 1, 0], [info.parts_total, info.parts_ended, info.parts_failed]
    refute info.parted?
    assert_match(/\Abatch_/, info.batch_id)
    parts = batch.parts
    assert_equal 1, parts.size
    assert_equal [info.batch_id, 3, :done], [parts[0].batch_id, parts[0].requests_added, parts[0].phase]
    assert_equal ids, batch.results.map(&:custom_id)
    assert_equal 1, server.stats["batches_created"]
  end

  def test_check_file_tells_the_parts_it_would_make
    path = File.join(work_dir, "in.jsonl")
    File.write(path, IDS.map do |id|
      JSON.generate(custom_id: id, method: "POST", url: "/v1/chat/completions",
                    body: chat("check #{id}").merge(model: "gpt-4o-mini"))
    end.join("\n") + "\n")
    report = Obatch.check_file(path, provider: "openai", max_requests: 3)
    assert report.ok?, report.problems.inspect
    assert_equal 4, report.info.parts_total
    assert_equal [0, 1, 2, 3], report.parts.map(&:index)
    assert_equal [3, 3, 3, 1], report.parts.map(&:requests_added)
    report.parts.each do |p|
      assert_equal "gpt-4o-mini", p.model
      assert_nil p.batch_id
      assert_operator p.bytes_total, :>, 0
      assert_operator p.tokens_estimated, :>, 0
    end
    assert_equal 1, Obatch.check_file(path, provider: "openai", split: "off").info.parts_total
  end
end
