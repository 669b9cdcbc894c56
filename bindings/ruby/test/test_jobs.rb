# frozen_string_literal: true

require_relative "test_helper"

# The job journal through the binding, with a journal of the test's own (the
# suite runs with OBATCH_STATE=off): the same input again resumes its job
# instead of paying twice, the journal lists and prunes its jobs, and an
# expired job's missing requests become a batch of their own.
class TestJobs < Minitest::Test
  include ServerTest

  def state
    @state ||= File.join(work_dir, "state", "jobs.db")
  end

  # Builds, submits and waits for the same three requests; closes the batch.
  # Returns the info after submit, the final info and "custom_id:kind"s.
  def run_three(server)
    batch = new_batch(server, model: "gpt-4o-mini", state: state)
    %w[j1 j2 j3].each { |id| batch.add(chat("journal #{id}"), custom_id: id) }
    submitted = batch.submit.info
    final = batch.wait
    [submitted, final, batch.results.map { |r| "#{r.custom_id}:#{r.kind}" }]
  ensure
    batch&.close
  end

  def test_job_origins_follow_the_c_enum
    assert_equal [Obatch::Raw::OBATCH_JOB_NONE, Obatch::Raw::OBATCH_JOB_NEW,
                  Obatch::Raw::OBATCH_JOB_RESUMED, Obatch::Raw::OBATCH_JOB_FOLLOWING,
                  Obatch::Raw::OBATCH_JOB_ADOPTED],
                 Obatch::JOB_ORIGINS.each_index.to_a
    assert_equal :adopted, Obatch::JOB_ORIGINS[Obatch::Raw::OBATCH_JOB_ADOPTED]
  end

  def test_raw_jobs_handle_is_destroyed_once
    Obatch::Config.with(state: state) do |conf|
      rc, list, err = Obatch::Raw.obatch_jobs_open(conf)
      assert_equal [0, ""], [rc, err]
      assert_kind_of Obatch::Raw::JobsHandle, list
      assert_equal state, Obatch::Raw.obatch_jobs_path(list)
      assert_equal Obatch::Raw::OBATCH_END, Obatch::Raw.obatch_jobs_next(list).first
      Obatch::Raw.obatch_jobs_destroy(list)
      assert_raises(RuntimeError) { Obatch::Raw.obatch_jobs_destroy(list) } # "not owned"
      err = assert_raises(RuntimeError) { Obatch::Raw.obatch_jobs_path(list) }
      assert_equal "ObjectPreviouslyDeleted", err.class.name
    end
  end

  def test_same_input_again_resumes_its_job_and_the_journal_lists_and_prunes_it
    server = start_server("steps" => 1)
    _, first, = run_three(server)
    assert_equal :new, first.job_origin
    assert_match(/\A\h{24}\z/, first.job_id)
    assert_equal state, first.journal_path
    refute first.resumed?

    # The first batch is done and closed: the second submit takes its job
    # up and downloads the results again, without a second batch.
    submitted, second, results = run_three(server)
    assert_equal :resumed, submitted.job_origin
    assert second.resumed?
    assert_equal first.job_id, second.job_id
    assert_equal first.batch_id, second.batch_id
    assert_equal %w[j1:succeeded j2:succeeded j3:succeeded], results
    stats = server.stats
    assert_equal [1, 1], [stats["batches_created"], stats["uploads"]]

    list = Obatch.jobs(state: state)
    assert_kind_of Obatch::JobList, list
    assert_equal state, list.path
    assert_equal 1, list.size
    assert_equal list.jobs, list.to_a
    job = list.first
    assert_kind_of Obatch::Job, job
    assert job.frozen?
    assert_equal first.job_id, job.id
    assert_equal :done, job.step
    assert job.ended?
    assert_equal "openai", job.provider
    assert_equal server.base_url, job.base_url
    assert_equal "/v1/chat/completions", job.endpoint
    assert_equal "gpt-4o-mini", job.model
    assert_nil job.source_path # added one by one, not from a file
    assert_match(/\A\h{64}\z/, job.input_sha256)
    assert_equal first.input_file_id, job.input_file_id
    assert_equal first.batch_id, job.batch_id
    assert_equal "completed", job.remote_status
    assert_equal first.output_file_id, job.output_file_id
    assert_nil job.error_file_id
    assert File.file?(job.output_path), job.output_path.inspect
    assert_nil job.error_path
    assert_nil job.error_message
    assert_nil job.retry_of
    assert_equal 3, job.requests
    assert_equal first.bytes_total, job.input_bytes
    assert_kind_of Time, job.created_at
    assert_operator job.updated_at, :>=, job.created_at
    refute job.running?
    assert_nil job.pid
    assert_equal 0, job.parts # one batch: batch_id
    assert_equal "[]", job.parts_json
    assert_equal [], job.part_list

    assert_equal 1, Obatch.prune_jobs(state: state)
    assert_equal [], Obatch.jobs(state: state).to_a
    assert_equal 0, Obatch.prune_jobs(state: state)
    assert_raises(Obatch::StateError) { Obatch.jobs(state: "off") }
  end

  def test_retry_missing_makes_a_batch_of_just_the_missing_requests
    server = start_server("steps" => 1, "final_status" => "expired", "partial_fraction" => 0.5)
    input = File.join(work_dir, "input.jsonl")
    ids = %w[m1 m2 m3 m4 m5 m6]
    File.write(input, ids.map do |id|
      JSON.generate(custom_id: id, method: "POST", url: "/v1/chat/completions",
                    body: chat(id).merge(model: "gpt-4o-mini"))
    end.join("\n") + "\n")

    batch = new_batch(server, state: state)
    batch.add_file(input)
    info = assert_raises(Obatch::ExpiredError) { batch.submit.wait }.info
    assert info.partial?
    job_id = info.job_id
    missing = batch.results.select(&:missing?).map(&:custom_id)
    batch.close
    assert_operator missing.size, :>, 0
    assert_operator missing.size, :<, ids.size

    server.configure("final_status" => "completed")
    retry_batch = Obatch::Batch.retry_missing(job_id, **server.options, work_dir: work_dir, state: state)
    @batches << retry_batch
    assert_equal :building, retry_batch.info.phase
    assert_equal missing.size, retry_batch.info.requests_added
    final = retry_batch.submit.wait
    assert final.completed?
    assert_equal :new, final.job_origin
    refute_equal job_id, final.job_id
    assert_equal missing, retry_batch.results.map(&:custom_id)
    assert retry_batch.results.all?(&:succeeded?)
    assert_equal 2, server.stats["batches_created"]

    jobs = Obatch.jobs(state: state).to_a
    assert_equal [final.job_id, job_id], jobs.map(&:id), "newest first"
    assert_equal job_id, jobs[0].retry_of
    assert_equal File.realpath(input), jobs[1].source_path
    assert_equal "expired", jobs[1].remote_status

    # The library's own message comes through.
    err = assert_raises(Obatch::StateError) do
      Obatch::Batch.retry_missing(final.job_id, **server.options, state: state)
    end
    assert_match(/nothing to retry/, err.message)
    err = assert_raises(Obatch::NotFoundError) do
      Obatch::Batch.retry_missing("ffffffffffff", **server.options, state: state)
    end
    assert_match(/no job ffffffffffff/, err.message)
  end
end
