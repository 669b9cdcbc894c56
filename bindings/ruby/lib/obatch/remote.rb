# frozen_string_literal: true

module Obatch
  class << self
    # One page of the provider's batches, newest first (a Page of Info).
    # provider: is required; limit: 1..100 (nil: 20); after: a batch id.
    def list(provider:, after: nil, limit: nil, **options)
      list_call(options.merge(provider: provider)) do |conf|
        Raw.obatch_list(conf, after&.to_s, limit.to_i)
      end
    end

    # Every batch of the provider, newest first, page by page (an
    # Enumerator without a block).
    def each_batch(provider:, limit: nil, **options, &block)
      return enum_for(:each_batch, provider: provider, limit: limit, **options) unless block

      after = nil
      loop do
        page = list(provider: provider, after: after, limit: limit, **options)
        page.each(&block)
        break unless page.has_more? && page.last_id

        after = page.last_id
      end
      nil
    end

    # One remote batch by id, asked for now (an Info). NotFoundError when
    # the provider has no such batch.
    def retrieve(batch_id, provider:, **options)
      list_call(options.merge(provider: provider)) do |conf|
        Raw.obatch_retrieve(conf, batch_id.to_s)
      end.first
    end

    # Asks the provider to cancel a remote batch by id; its answer (an Info,
    # remote_status "cancelling" or the status it had already ended in).
    def cancel(batch_id, provider:, **options)
      list_call(options.merge(provider: provider)) do |conf|
        Raw.obatch_cancel_id(conf, batch_id.to_s)
      end.first
    end

    # Checks every line of a JSONL input file without sending anything (a
    # CheckReport, with the parts submitting it would make). Raises only
    # when the file cannot be read.
    def check_file(path, max_problems: 0, **options)
      Config.with(options) do |conf|
        rc, check, err = Raw.obatch_check_file(conf, path.to_s, max_problems.to_i)
        raise Error.for(rc, err) unless rc == Raw::OBATCH_OK

        begin
          problems = []
          loop do
            rc, problem = Raw.obatch_check_next(check)
            break if rc == Raw::OBATCH_END
            raise Error.for(rc) if rc.negative?

            problems << Problem.new(**problem).freeze
          end
          rc, raw = Raw.obatch_check_info(check)
          raise Error.for(rc) if rc.negative?

          parts = PartInfo.read_all(->(code) { raise Error.for(code) if code.negative? }) do |index|
            Raw.obatch_check_part(check, index)
          end
          CheckReport.new(problems: problems.freeze, problem_count: Raw.obatch_check_problems(check),
                          info: Info.from_raw(raw), parts: parts).freeze
        ensure
          Raw.obatch_check_destroy(check)
        end
      end
    end

    private

    def list_call(options)
      Config.with(options) do |conf|
        rc, list, err = yield conf
        raise Error.for(rc, err) unless rc == Raw::OBATCH_OK

        begin
          batches = []
          loop do
            rc, raw = Raw.obatch_list_next(list)
            break if rc == Raw::OBATCH_END
            raise Error.for(rc) if rc.negative?

            batches << Info.from_raw(raw)
          end
          last_id = Raw.obatch_list_last_id(list)
          Page.new(batches: batches.freeze, has_more: Raw.obatch_list_has_more(list) == 1,
                   last_id: last_id.to_s.empty? ? nil : last_id).freeze
        ensure
          Raw.obatch_list_destroy(list)
        end
      end
    end
  end
end
