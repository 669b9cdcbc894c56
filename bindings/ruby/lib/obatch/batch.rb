# frozen_string_literal: true

require "json"

module Obatch
  # One batch: add requests, submit, wait, read the results.
  #
  #   batch = Obatch::Batch.new(provider: "openai", model: "gpt-4o-mini")
  #   batch.add({ messages: [{ role: "user", content: "Say hi" }] }, custom_id: "q1")
  #   batch.submit
  #   batch.wait { |progress| puts progress.remote_status }
  #   batch.each_result { |r| puts "#{r.custom_id}: #{r.body}" }
  #   batch.close
  #
  # A Batch may be shared between threads: calls are serialised. #wait
  # releases the GVL, so other Ruby threads run while it waits. Errors are
  # Obatch::Error subclasses carrying the library's message.
  class Batch
    include Enumerable

    # How long one wait step blocks without the GVL (ms): Thread#raise,
    # Thread#kill and Ctrl-C are served between steps.
    WAIT_STEP_MS = 50

    # The default model merged into Hash bodies that name none (or nil).
    attr_reader :model

    # Keyword options are configuration keys of the C library: provider:,
    # base_url:, api_key:, endpoint:, completion_window:, metadata: {k => v},
    # work_dir:, results_dir:, output_path:, error_path:, custom_id_prefix:,
    # poll_interval_ms:, poll_max_interval_ms:, max_retries:,
    # connect_timeout_ms:, request_timeout_ms:, max_requests:, max_bytes:,
    # split: ("auto": an input over the provider's limits of one batch runs
    # as several, see #parts; "off": refused), max_enqueued_tokens:,
    # max_running_batches:, mode: ("batch", "direct": normal requests at
    # full price, "auto"), direct_below:, deadline:, concurrency:, rpm:, tpm:,
    # state: (the job journal's path, "off": none),
    # force_new: (1: a new job even when the journal has one for the same
    # input).
    # model: is not sent to the library: it is the default model of Hash
    # bodies given to #add.
    def initialize(provider: nil, model: nil, **options)
      @model = model
      @prefix = (options[:custom_id_prefix] || options["custom_id_prefix"] || "request").to_s
      @lock = Mutex.new
      @added = 0
      Config.with(options.merge(provider: provider)) do |conf|
        rc, handle = Raw.obatch_create(conf)
        unless rc == Raw::OBATCH_OK
          # The library's own words: this thread's obatch_last_error(nil).
          raise Batch.create_error(rc, provider, "create the batch", Raw.obatch_last_error(nil))
        end

        @handle = handle
      end
    end

    # Batch.open(**options) { |batch| ... }: closes the batch when the block
    # ends and returns the block's value. Without a block, the same as new.
    extend BlockOpen

    # Attaches to a batch that already runs at the provider (provider: is
    # required). Wait for it and read its results as with a new batch.
    def self.resume(batch_id, provider:, **options)
      from_handle(options.merge(provider: provider), "resume batch #{batch_id}") do |conf|
        Raw.obatch_resume(conf, batch_id.to_s)
      end
    end

    # Reads result files already on disk (nothing is sent): output: and/or
    # errors: (paths), input: the input file (gives the order and the ids of
    # requests without a result).
    def self.from_files(output: nil, errors: nil, input: nil, **options)
      paths = [output, errors].compact.join(", ")
      from_handle(options, "open the result files (#{paths})") do |conf|
        Raw.obatch_open(conf, input&.to_s, output&.to_s, errors&.to_s)
      end
    end

    # A new batch (not submitted) of the requests of an ended job of the
    # journal that have no result: its batch expired or was cancelled. They
    # are read again from the job's input file (its requests came from
    # add_file). job_id is a job id, a unique prefix of one (4+ characters)
    # or a batch id; state: names the journal. Provider, base URL and endpoint default
    # to the job's. Raises NotFoundError for an unknown job, StateError when
    # it has not ended or nothing is missing.
    def self.retry_missing(job_id, **options)
      from_handle(options, "retry job #{job_id}") do |conf|
        Raw.obatch_retry_missing(conf, job_id.to_s)
      end
    end

    def self.from_handle(options, action)
      batch = allocate
      batch.send(:adopt, options, action) { |conf| yield conf }
      batch
    end
    private_class_method :from_handle

    def self.create_error(rc, provider, action = "create the batch", message = nil) # :nodoc:
      return Error.for(rc, "cannot #{action}: #{message}") unless message.to_s.empty?

      what = Obatch.strerror(rc)
      what += " (provider #{provider.to_s.inspect})" if rc == Raw::OBATCH_EPROVIDER && provider
      Error.for(rc, "cannot #{action}: #{what}")
    end

    # Appends one request. body: a Hash (converted to JSON; the default
    # model is merged in when it names none) or JSON text. custom_id: nil
    # for "request-N" (N the request's 1-based position). endpoint: nil to
    # infer it from the body. Returns the request's custom_id. Raises a
    # RequestError (JSONError, InvalidRequestError, DuplicateIdError,
    # LimitError, ModelError) when the request is refused; then nothing was
    # added.
    def add(body, custom_id: nil, endpoint: nil)
      json = RequestBody.json(body, @model, "add")
      custom_id = custom_id&.to_s
      endpoint = endpoint&.to_s
      @lock.synchronize do
        check(Raw.obatch_add(handle!, json, custom_id, endpoint))
        @added += 1
        custom_id || "#{@prefix}-#{@added}"
      end
    end

    # batch << body: add(body); returns the batch.
    def <<(body)
      add(body)
      self
    end

    # Appends one complete input line ({"custom_id", "method", "url",
    # "body"}), as a Hash or JSON text. Returns the batch.
    def add_line(line)
      json = line.is_a?(String) ? line : JSON.generate(line)
      RequestBody.no_nul!(json)
      @lock.synchronize do
        check(Raw.obatch_add_line(handle!, json))
        @added += 1
      end
      self
    end

    # Adds one request per line of +bodies+ (a String of JSONL: one JSON body
    # per line, the last newline optional), each with add's checks and a
    # generated custom_id, all or nothing: on the first bad body nothing of
    # the call is added and the error names its line ("line 7: ..."). Parsed
    # as one document stream: much faster than one add per body. Returns how
    # many requests were added.
    def add_many(bodies, endpoint: nil)
      raise TypeError, "obatch: bodies must be a String" unless bodies.is_a?(String)

      endpoint = endpoint&.to_s
      @lock.synchronize do
        rc, added = Raw.obatch_add_many(handle!, bodies, endpoint)
        check(rc)
        @added += added
        added
      end
    end

    # Appends every line of a JSONL file, all or nothing. Returns the batch.
    def add_file(path)
      @lock.synchronize do
        check(Raw.obatch_add_file(handle!, path.to_s))
        _, raw = Raw.obatch_info(handle!)
        @added = raw[:requests_added]
      end
      self
    end

    # Queues the upload and the batch creation; returns at once (self).
    def submit
      @lock.synchronize { check(Raw.obatch_submit(handle!)) }
      self
    end

    # Asks the provider to cancel the batch (results finished before are
    # still downloaded; #wait then returns with remote_status "cancelled").
    def cancel
      @lock.synchronize { check(Raw.obatch_cancel(handle!)) }
      self
    end

    # The batch now (an Info), without waiting.
    def info
      poll(0)
    end

    # Waits at most timeout seconds (without the GVL) for progress; an Info.
    def poll(timeout = 0)
      ms = (timeout.to_f * 1000).ceil.clamp(0, 2**31 - 1)
      @lock.synchronize do
        _, raw = check(*Raw.obatch_poll(handle!, ms))
        Info.from_raw(raw)
      end
    end

    # Waits until the batch ends; yields an Info each time it moves on
    # (phase, remote status, counts, bytes, parts; in direct mode also the
    # requests in flight). Returns the final Info when the batch completed.
    # Raises ExpiredError or CancelledError when it ended so (err.info is the
    # final Info, info.partial? is true; the finished results are read from
    # the batch as usual and the rest come back :missing), FailedError (or the
    # error that stopped the batch), or TimeoutError after timeout seconds
    # (the batch goes on; wait again).
    # Other Ruby threads run while it waits.
    def wait(timeout: nil)
      deadline = timeout && monotonic + timeout
      info = self.info
      raise StateError, "wait: the batch was not submitted (call submit first)" if info.phase == :building

      seen = nil
      loop do
        if block_given? && progress_key(info) != seen
          seen = progress_key(info)
          yield info
        end
        break if info.ended?

        step = WAIT_STEP_MS
        if deadline
          left = deadline - monotonic
          raise TimeoutError, "wait: the batch has not ended after #{timeout} s (it goes on)" if left <= 0

          step = [step, (left * 1000).ceil].min
        end
        # Let a thread blocked on the lock (cancel, info, close) in first:
        # Mutex is not fair, and this loop would take it straight back.
        Thread.pass
        info = poll(step / 1000.0)
      end
      finish
    end

    # Yields every result (a Result) in input order: failures and requests
    # without a result included. Without a block, an Enumerator. Reading
    # starts from the first result on every call. Raises StateError before
    # the batch is done.
    def each_result
      return enum_for(:each_result) unless block_given?

      @lock.synchronize { check(Raw.obatch_rewind(handle!)) }
      loop do
        raw = @lock.synchronize do
          rc, r = check(*Raw.obatch_fetch(handle!))
          rc == Raw::OBATCH_END ? nil : r
        end
        break unless raw

        yield Result.from_raw(raw)
      end
      self
    end

    # Enumerable: batch.each, batch.select(&:failed?), batch.map(&:body), ...
    # go over the results as each_result does.
    alias each each_result

    # Every result, in input order (an Array of Result).
    def results
      each_result.to_a
    end

    # The batches of the job ("parts"), in input order, as of now (an Array
    # of PartInfo): an input over the provider's limits of one batch (or
    # max_requests: / max_bytes:) runs as several. A job of one batch has
    # one part, the job itself; before submit there are none.
    def parts
      @lock.synchronize do
        h = handle!
        check(Raw.obatch_info(h)[0]) # the parts as of now
        PartInfo.read_all(method(:check)) { |index| Raw.obatch_part_info(h, index) }
      end
    end

    # The Result of one custom_id, or nil when the batch has none.
    def lookup(custom_id)
      @lock.synchronize do
        rc, raw = Raw.obatch_lookup(handle!, custom_id.to_s)
        return nil if rc == Raw::OBATCH_ENOTFOUND

        check(rc)
        Result.from_raw(raw)
      end
    end
    alias [] lookup

    # The batch's id; nil before it is created, for a job of several
    # batches (see #parts) and in direct mode (no batch: see Info#direct?).
    def batch_id
      info.batch_id
    end

    # The local JSONL input file.
    def input_path
      @lock.synchronize { Raw.obatch_input_path(handle!) }
    end

    # Frees the batch (a batch running at the provider keeps running there:
    # resume it by id). Safe to call more than once; the garbage collector
    # frees a batch that is never closed.
    def close
      @lock.synchronize do
        handle = @handle
        @handle = nil
        Raw.obatch_destroy(handle) if handle
      end
      nil
    end

    def closed?
      @handle.nil?
    end

    def inspect
      return "#<#{self.class} closed>" if closed?

      i = info
      what = i.batch_id || (i.parted? ? "#{i.parts_total} batches" : nil)
      what ||= (i.phase != :building && i.direct?) ? "direct" : "(not submitted)"
      "#<#{self.class} #{i.phase} #{what} #{i.requests_added} requests>"
    end

    private

    def adopt(options, action)
      @model = nil
      @prefix = (options[:custom_id_prefix] || "request").to_s
      @lock = Mutex.new
      Config.with(options) do |conf|
        rc, handle, message = yield conf
        raise Batch.create_error(rc, options[:provider], action, message) unless rc == Raw::OBATCH_OK

        @handle = handle
      end
      @added = Raw.obatch_info(@handle)[1][:requests_added]
    end

    def handle!
      @handle or raise ClosedError, "the batch is closed"
    end

    # Raises for a negative status (with the handle's last error); returns
    # its arguments otherwise. Called with the lock held.
    def check(rc, *rest)
      if rc.negative?
        message = @handle ? Raw.obatch_last_error(@handle) : nil
        raise Error.for(rc, message)
      end
      rest.empty? ? rc : [rc, *rest]
    end

    def finish
      @lock.synchronize do
        rc, raw = Raw.obatch_wait(handle!, 0)
        info = Info.from_raw(raw)
        # As in Node and Go: anything but completed raises, with the final
        # Info on the error (the finished results of an expired or
        # cancelled batch are read from the batch as usual).
        return info if rc == Raw::OBATCH_OK

        err = Error.for(rc, Raw.obatch_last_error(@handle))
        err.info = info if err.respond_to?(:info=)
        raise err
      end
    end

    def progress_key(info)
      [info.phase, info.remote_status, info.requests_total, info.requests_completed,
       info.requests_failed, info.bytes_uploaded, info.bytes_downloaded,
       info.parts_submitted, info.parts_running, info.parts_ended, info.parts_failed,
       info.requests_in_flight]
    end

    def monotonic
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
