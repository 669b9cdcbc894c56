# frozen_string_literal: true

require "json"

module Obatch
  # The states of a queued request (obatch_queue_state 1..5), by state - 1.
  QUEUE_STATES = %i[queued submitted completed failed expired].freeze

  # A queued request (obatch_queue_entry_t), copied: it never changes.
  # state is a Symbol (:queued, :submitted, :completed, :failed, :expired);
  # body is the answer's body parsed (a Hash) or nil, body_json its text;
  # status_code, error_code, error_message and batch_id are nil when there
  # is none; times are Time (millisecond precision) or nil.
  QueueEntry = Struct.new(
    :ticket, :state, :provider, :endpoint, :model, :status_code, :body, :body_json,
    :error_code, :error_message, :batch_id, :attempts, :created_at, :submitted_at, :ended_at,
    keyword_init: true
  ) do
    def self.from_raw(h)
      body_json = h[:body].to_s.empty? ? nil : h[:body]
      body = begin
        body_json && JSON.parse(body_json)
      rescue JSON::ParserError
        nil
      end
      empty = ->(s) { s.to_s.empty? ? nil : s }
      new(ticket: h[:ticket], state: QUEUE_STATES.fetch(h[:state] - 1, h[:state]),
          provider: h[:provider], endpoint: h[:endpoint], model: h[:model],
          status_code: h[:status_code].zero? ? nil : h[:status_code], body: body,
          body_json: body_json, error_code: empty.(h[:error_code]),
          error_message: empty.(h[:error_message]), batch_id: empty.(h[:batch_id]),
          attempts: h[:attempts], created_at: Queue.time(h[:created_ms]),
          submitted_at: Queue.time(h[:submitted_ms]), ended_at: Queue.time(h[:ended_ms])).freeze
    end

    def queued? = state == :queued
    def submitted? = state == :submitted
    # Answered 2xx: body holds the answer.
    def completed? = state == :completed
    # Answered with an error, or its batch failed (error_code, error_message).
    def failed? = state == :failed
    # No result after max_attempts batches.
    def expired? = state == :expired
    # Completed, failed or expired: nothing changes any more.
    def ended? = completed? || failed? || expired?
    alias_method :ok?, :completed?
  end

  # The store's counts, and what one Queue#work step did (0 from
  # Queue#stats): flushed (requests put into new batches), stored (answers
  # stored), requeued (requests of expired / cancelled batches queued
  # again), taken_over (batches of workers that stopped), pruned (ended
  # requests removed after the retention), held (batches this handle runs).
  # oldest_queued_at is a Time or nil.
  QueueStats = Struct.new(
    :queued, :submitted, :completed, :failed, :expired, :batches_running, :oldest_queued_at,
    :flushed, :stored, :requeued, :taken_over, :pruned, :held,
    keyword_init: true
  ) do
    def self.from_raw(h)
      h = h.dup
      h[:oldest_queued_at] = Queue.time(h.delete(:oldest_queued_ms))
      new(**h).freeze
    end

    # Anything a work step did (an answer stored, a batch made, ...).
    def did_work? = (flushed + stored + requeued + taken_over).positive?
  end

  # Deferred requests: put one request now and get a ticket, ask for its
  # answer later. Workers (#work in a loop, here or in any process sharing
  # the store) collect the queued requests into batches at half the price.
  # The store is a SQLite file (one machine; several processes may share
  # it) or a PostgreSQL database ("postgresql://...", any number of workers
  # on any number of machines).
  #
  #   Obatch::Queue.open(store: "queue.db", flush_age: "10m") do |q|
  #     ticket = q.put({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] })
  #     # ... a worker runs q.work in a loop ...
  #     entry = q.wait(ticket)
  #     puts entry.body.dig("choices", 0, "message", "content") if entry.completed?
  #   end
  #
  # Every call runs in C without the GVL (other Ruby threads run on), wait
  # and work in steps of at most STEP_MS, so Thread#raise, Thread#kill and
  # Ctrl-C are served between them. A Queue may be shared between threads;
  # #close waits for the calls in flight.
  class Queue
    STEP_MS = 100

    # Queue.open(store:, **options) { |q| ... }: closes the queue when the
    # block ends and returns the block's value. Without a block, new.
    extend BlockOpen

    def self.time(ms) # :nodoc:
      ms.to_i.positive? ? Time.at(ms / 1000, ms % 1000, :millisecond) : nil
    end

    attr_reader :store, :model

    # store: a SQLite file or a "postgresql://" URI (nil: $OBATCH_QUEUE,
    # else $XDG_STATE_HOME/obatch/queue.db). Keyword options are the C
    # library's configuration keys: the flush rules flush_requests: (10000),
    # flush_bytes: (100 MB), flush_age: ("10m"), and lease: ("2m"),
    # retention: ("168h"), max_attempts: (3), plus those of a batch
    # (provider:, base_url:, api_key:, work_dir:, state:, poll_interval_ms:,
    # ...). model: is the default model of Hash bodies given to #put.
    def initialize(store: nil, model: nil, **options)
      @store = store&.to_s
      @model = model
      @lock = Mutex.new
      @idle = ConditionVariable.new
      @in_flight = 0
      @closing = false
      Config.with(options) do |conf|
        rc, handle, err = Raw.obatch_queue_open(conf, @store)
        raise Error.for(rc, err) unless rc == Raw::OBATCH_OK

        @handle = handle
      end
    end

    # Stores one request (checked exactly as Batch#add checks it; durable
    # when put returns) and returns its ticket. body: a Hash (converted to
    # JSON; the default model merged in) or JSON text. Without id: the
    # ticket comes from the request (the same request again: the same
    # ticket, stored and paid for once); an id is the ticket and must be
    # unique (another request with it raises DuplicateIdError). A refused
    # request raises a RequestError naming the field; nothing is stored.
    def put(body, endpoint: nil, id: nil)
      json = RequestBody.json(body, @model, "put")
      endpoint = endpoint&.to_s
      id = id&.to_s
      raise ArgumentError, "put: a NUL byte in the endpoint or id" if "#{endpoint}#{id}".include?("\0")

      rc, ticket, err = call { |h| Raw.obatch_queue_put(h, endpoint, json, id) }
      raise Error.for(rc, err) unless rc == Raw::OBATCH_OK

      ticket
    end

    # The request now (a QueueEntry); never waits. Raises NotFoundError for
    # a ticket the queue does not have.
    def get(ticket)
      ticket = ticket!(ticket)
      rc, raw, err = call { |h| Raw.obatch_queue_get(h, ticket) }
      raise Error.for(rc, err) unless rc == Raw::OBATCH_OK

      QueueEntry.from_raw(raw)
    end
    alias [] get

    # Waits until the request has ended (completed, failed or expired) and
    # returns its QueueEntry. Raises TimeoutError after timeout seconds
    # (nil: no limit); its #entry is the request as it is then.
    def wait(ticket, timeout: nil)
      ticket = ticket!(ticket)
      deadline = timeout && monotonic + timeout.to_f
      loop do
        rc, raw, err = call { |h| Raw.obatch_queue_wait(h, ticket, step_ms(deadline)) }
        return QueueEntry.from_raw(raw) if rc == Raw::OBATCH_OK
        raise Error.for(rc, err) unless rc == Raw::OBATCH_ETIMEOUT

        next unless deadline && monotonic >= deadline

        error = Error.for(rc, err)
        error.entry = QueueEntry.from_raw(raw)
        raise error
      end
    end

    # One step of a worker: renews its leases, stores the answers of its
    # batches that ended, takes over the batches of workers that stopped,
    # makes and submits a batch for every flush rule that fires, and removes
    # ended requests after the retention. When there was nothing to do it
    # waits up to timeout seconds for something. Returns a QueueStats (the
    # step counts summed over its steps). Call it in a loop; #close gives
    # the batches this handle runs up to the other workers at once.
    def work(timeout: 0.5)
      deadline = monotonic + [timeout.to_f, 0].max
      done = Hash.new(0)
      loop do
        rc, raw, err = call { |h| Raw.obatch_queue_work(h, step_ms(deadline)) }
        raise Error.for(rc, err) unless rc == Raw::OBATCH_OK

        %i[flushed stored requeued taken_over pruned].each { |k| done[k] += raw[k] }
        stats = QueueStats.from_raw(raw.merge(done))
        return stats if stats.did_work? || monotonic >= deadline
      end
    end

    # The store's counts (a QueueStats).
    def stats
      rc, raw, err = call { |h| Raw.obatch_queue_stats(h) }
      raise Error.for(rc, err) unless rc == Raw::OBATCH_OK

      QueueStats.from_raw(raw)
    end

    # Closes the queue once the calls in flight have returned (at most a
    # step), giving the batches it runs up to the other workers at once
    # (they run on at the provider). Safe to call more than once; later
    # calls raise StateError. The garbage collector closes a queue that is
    # never closed.
    def close
      handle = @lock.synchronize do
        @closing = true
        @idle.wait(@lock) while @in_flight.positive?
        h = @handle
        @handle = nil
        h
      end
      Raw.obatch_queue_close(handle) if handle
      nil
    end

    def closed?
      @closing
    end

    def inspect
      "#<#{self.class} #{@store || "(default store)"}#{closed? ? " closed" : ""}>"
    end

    private

    # Yields the handle with the call counted in flight (close waits for
    # it). Thread#raise / #kill are deferred until the count is right.
    def call
      Thread.handle_interrupt(Object => :never) do
        handle = @lock.synchronize do
          raise ClosedError, "the queue is closed" if @closing || !@handle

          @in_flight += 1
          @handle
        end
        begin
          Thread.handle_interrupt(Object => :immediate) { yield handle }
        ensure
          @lock.synchronize do
            @in_flight -= 1
            @idle.broadcast if @in_flight.zero?
          end
        end
      end
    end

    def step_ms(deadline)
      return STEP_MS unless deadline

      ((deadline - monotonic) * 1000).ceil.clamp(0, STEP_MS)
    end

    def ticket!(ticket)
      raise TypeError, "a ticket is a String, not #{ticket.class}" unless ticket.is_a?(String)
      raise ArgumentError, "a NUL byte in the ticket" if ticket.include?("\0")

      ticket
    end

    def monotonic
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
