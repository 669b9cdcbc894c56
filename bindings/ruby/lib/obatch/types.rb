# frozen_string_literal: true

require "json"

module Obatch
  # The local phase of a batch (obatch_phase), by index.
  PHASES = %i[building uploading creating waiting downloading done failed].freeze
  # The kind of a result (obatch_result_kind), by index.
  RESULT_KINDS = %i[succeeded http_error error missing].freeze
  # How a submitted batch came to its job in the journal (obatch_job_origin),
  # by index: :none (no journal, or not submitted), :new, :resumed (the same
  # input was submitted before: no second upload, no second batch),
  # :following (another live process runs the job; this batch waits for it),
  # :adopted (the provider had this input's batch from another journal, made
  # in the last 48 h: taken up instead of paid for again).
  JOB_ORIGINS = %i[none new resumed following adopted].freeze

  INFO_TIMES = %i[created_at in_progress_at finalizing_at completed_at failed_at expired_at
                  cancelling_at cancelled_at expires_at].freeze
  INFO_STRINGS = %i[provider endpoint batch_id remote_status input_file_id output_path
                    error_path error_message model output_file_id error_file_id
                    completion_window batch_json job_id journal_path mode mode_reason].freeze
  PART_STRINGS = %i[model batch_id remote_status error_message].freeze
  JOB_STRINGS = %i[provider base_url endpoint model source_path input_sha256 input_file_id
                   batch_id remote_status output_file_id error_file_id output_path error_path
                   error_message retry_of].freeze

  # A snapshot of a batch (obatch_info_t), copied: it never changes.
  # Strings the library does not know are nil; times are Time or nil.
  #
  # A job of several batches ("parts": an input over the provider's limits
  # of one batch, or max_requests: / max_bytes:) has parts_total > 1; then
  # batch_id, input_file_id, output_file_id, error_file_id and batch_json
  # are nil (see Batch#parts), the counts are summed over the parts, and
  # output_path / error_path are the merged files, in input order. A job of
  # one batch has parts_total 1.
  #
  # mode is "batch" or "direct" (mode: "direct", or "auto" choosing it) and
  # mode_reason says why (the mode: option, or what "auto" weighed). A job
  # in direct mode sends each request as a normal request (full price,
  # results in minutes): phase :waiting while they are sent, remote_status
  # "in_progress" then "completed", batch_id and the file ids nil, and the
  # request counts are the results written so far (requests_completed: 2xx
  # answers, requests_failed: the error file's lines). Its sending, as of
  # the snapshot: requests_in_flight, requests_retried (sent again after a
  # 408, 409, 429, 5xx or no answer), responses_429 ("too many requests"
  # answers seen), requests_per_minute (sent in the last minute),
  # tokens_per_minute (their prompt tokens, estimated), rpm_limit and
  # tpm_limit (the limits followed: the lower of rpm: / tpm: and the
  # server's x-ratelimit-* headers; 0: none). All 0 in batch mode.
  Info = Struct.new(
    :phase, :provider, :endpoint, :batch_id, :remote_status, :input_file_id,
    :output_path, :error_path, :requests_added, :requests_total, :requests_completed,
    :requests_failed, :bytes_total, :bytes_uploaded, :bytes_downloaded, :created_at,
    :error_code, :error_message, :model, :output_file_id, :error_file_id,
    :completion_window, :in_progress_at, :finalizing_at, :completed_at, :failed_at,
    :expired_at, :cancelling_at, :cancelled_at, :expires_at, :input_tokens,
    :output_tokens, :total_tokens, :batch_json, :job_id, :job_origin, :journal_path,
    :parts_total, :parts_submitted, :parts_running, :parts_ended, :parts_failed,
    :tokens_estimated, :tokens_enqueued,
    :mode, :mode_reason, :requests_in_flight, :requests_retried, :responses_429,
    :requests_per_minute, :tokens_per_minute, :rpm_limit, :tpm_limit,
    keyword_init: true
  ) do
    def self.from_raw(hash)
      h = hash.dup
      h[:phase] = PHASES.fetch(h[:phase], h[:phase])
      h[:job_origin] = JOB_ORIGINS.fetch(h[:job_origin], h[:job_origin])
      INFO_STRINGS.each { |k| h[k] = nil if h[k] == "" }
      INFO_TIMES.each { |k| h[k] = h[k].to_i.positive? ? Time.at(h[k]) : nil }
      h[:error_code] = nil if h[:error_code].to_i.zero?
      new(**h).freeze
    end

    # Results can be read (completed, expired or cancelled).
    def done? = phase == :done
    # Stopped by an error; see #error.
    def failed? = phase == :failed
    # Done or failed: waiting is over.
    def ended? = done? || failed?
    # Every request has a result (the provider completed the batch).
    def completed? = done? && remote_status == "completed"
    # Ended "expired" or "cancelled": some requests have no result (kind :missing).
    def partial? = done? && %w[expired cancelled].include?(remote_status)
    # The same input was submitted before: its job went on, not paid twice.
    def resumed? = job_origin == :resumed
    # The job runs as several batches (see Batch#parts).
    def parted? = parts_total.to_i > 1
    # The requests are sent as normal requests, not as a batch (mode "direct").
    def direct? = mode == "direct"

    # The provider's batch object (metadata, errors, ...), parsed; {} when none.
    def batch
      batch_json ? JSON.parse(batch_json) : {}
    end

    # The failure as an Obatch::Error, or nil.
    def error
      error_code && Error.for(error_code, error_message)
    end
  end

  # One batch ("part") of a job (obatch_part_info / obatch_check_part),
  # copied: index (0-based, in input order), phase (a Symbol; :failed also
  # when its batch failed), model, batch_id (nil until its batch is
  # created), remote_status, requests_added (its requests),
  # requests_total/completed/failed, bytes_total, tokens_estimated,
  # error_message. Strings the library does not know are nil.
  PartInfo = Struct.new(
    :index, :phase, :model, :batch_id, :remote_status, :requests_added, :requests_total,
    :requests_completed, :requests_failed, :bytes_total, :tokens_estimated, :error_message,
    keyword_init: true
  ) do
    def self.from_raw(index, hash)
      h = hash.slice(*members)
      h[:index] = index
      h[:phase] = PHASES.fetch(h[:phase], h[:phase])
      PART_STRINGS.each { |k| h[k] = nil if h[k] == "" }
      new(**h).freeze
    end

    # Every part through the block (a raw call returning [rc, info] for an
    # index), from 0 until OBATCH_ENOTFOUND; `check` gets any other code.
    def self.read_all(check)
      parts = []
      (0..).each do |index|
        rc, raw = yield index
        break if rc == Raw::OBATCH_ENOTFOUND

        check.call(rc)
        parts << from_raw(index, raw)
      end
      parts.freeze
    end

    def done? = phase == :done
    def failed? = phase == :failed
    def ended? = done? || failed?
    def completed? = done? && remote_status == "completed"
  end

  # One result (obatch_result_t), copied. kind is :succeeded (HTTP 2xx),
  # :http_error (body holds the error), :error (failed without an HTTP
  # response) or :missing (no result: the batch expired or was cancelled).
  # body is the parsed response body (a Hash) or nil; body_json its text;
  # raw the whole result line as JSON text (nil when missing).
  Result = Struct.new(:custom_id, :kind, :index, :status_code, :body, :body_json, :raw,
                      :request_id, :error_code, :error_message, keyword_init: true) do
    def self.from_raw(h)
      body_json = h[:body]
      body = begin
        body_json && JSON.parse(body_json)
      rescue JSON::ParserError
        nil
      end
      new(custom_id: h[:custom_id], kind: RESULT_KINDS.fetch(h[:kind], h[:kind]),
          index: h[:index], status_code: h[:status_code].zero? ? nil : h[:status_code],
          body: body, body_json: body_json, raw: h[:line], request_id: h[:request_id],
          error_code: h[:error_code], error_message: h[:error_message]).freeze
    end

    def succeeded? = kind == :succeeded
    alias_method :ok?, :succeeded?
    def http_error? = kind == :http_error
    def error? = kind == :error
    def missing? = kind == :missing
  end

  # One problem of an input file (obatch_problem_t): line (1-based; 0 for the
  # file as a whole), code (obatch_code) and message.
  Problem = Struct.new(:line, :code, :message, keyword_init: true) do
    def error_class = CODE_CLASSES.fetch(code, Error)
  end

  # Every problem of an input file, found without sending anything.
  # problem_count counts all of them; problems holds the first max_problems.
  # info says what submitting the file would send; parts (PartInfo) the
  # batches it would make (split: "auto", the default).
  CheckReport = Struct.new(:problems, :problem_count, :info, :parts, keyword_init: true) do
    def ok? = problem_count.zero?
  end

  # One job of the job journal (obatch_job_t), copied. step is a Symbol
  # (:new, :uploading, :uploaded, :creating, :created, :downloading, :done,
  # :failed, :abandoned); strings the journal does not know are nil; times
  # are Time or nil; pid is nil unless a live process holds the job.
  # parts: the batches of a job cut into several (0: one batch, batch_id);
  # parts_json: those batches as a JSON array in input order ("[]" for one
  # batch), parsed by #part_list.
  Job = Struct.new(
    :id, :step, :provider, :base_url, :endpoint, :model, :source_path, :input_sha256,
    :input_file_id, :batch_id, :remote_status, :output_file_id, :error_file_id, :output_path,
    :error_path, :error_message, :retry_of, :requests, :input_bytes, :created_at, :updated_at,
    :running, :pid, :parts, :parts_json,
    keyword_init: true
  ) do
    def self.from_raw(hash)
      h = hash.dup
      h[:step] = h[:step].to_s.empty? ? nil : h[:step].to_sym
      JOB_STRINGS.each { |k| h[k] = nil if h[k] == "" }
      %i[created_at updated_at].each { |k| h[k] = h[k].to_i.positive? ? Time.at(h[k]) : nil }
      h[:pid] = nil if h[:pid].to_i.zero?
      new(**h).freeze
    end

    # A live process holds the job.
    def running? = running

    # The job's batches, parsed from parts_json: [{"index", "model",
    # "requests", "step", "batch_id", "remote_status", "attempt", "error"}];
    # [] for a job of one batch.
    def part_list
      parts_json.to_s.empty? ? [] : JSON.parse(parts_json)
    end

    # Done, failed or abandoned: the job does not move on any more.
    def ended? = %i[done failed abandoned].include?(step)
  end

  # Enumerable over a Struct's items (`items`: its Array member). The
  # Struct's own to_a, size and select would see its members instead.
  module Items
    include Enumerable

    def each(&block) = items.each(&block)
    def to_a = items.dup
    def size = items.size
    def select(&block) = items.select(&block)
    alias_method :entries, :to_a
    alias_method :length, :size
    alias_method :filter, :select
  end

  # The jobs of a journal (newest first) and its path.
  JobList = Struct.new(:jobs, :path, keyword_init: true) do
    include Items

    def items = jobs
  end

  # One page of the provider's batches (newest first).
  Page = Struct.new(:batches, :has_more, :last_id, keyword_init: true) do
    include Items

    def items = batches
    def has_more? = has_more
  end
end
