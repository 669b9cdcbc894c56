# frozen_string_literal: true

require "json"

module Obatch
  # One request's tokens as OpenAI counts them (obatch_tokens_t), copied.
  # encoding: "o200k_base" or "cl100k_base", as tiktoken maps the model
  # (encoding_assumed: the model is unknown to tiktoken, o200k_base
  # assumed). prompt_tokens is exact: the text with the encoding plus the
  # counting guide's overheads. output_tokens is an upper bound
  # (max_completion_tokens / max_tokens / max_output_tokens times n;
  # output_assumed: no max given, 1000 assumed). images_assumed: an image of
  # unknown size or "auto" detail counted as high detail. approximate: tools
  # or a response_format schema, counted by the guide's rule of thumb.
  Tokens = Struct.new(:encoding, :encoding_assumed, :prompt_tokens, :output_tokens, :output_assumed,
                      :images, :images_assumed, :approximate, keyword_init: true) do
    def encoding_assumed? = encoding_assumed
    def output_assumed? = output_assumed
    def images_assumed? = images_assumed
    def approximate? = approximate
  end

  # One row of an estimate (obatch_estimate_row_t), copied: one model, or
  # the total (model ""). requests, prompt_tokens (exact), output_tokens (an
  # upper bound); encoding_assumed, output_assumed, images_assumed and
  # approximate count the requests each caveat of Tokens applies to;
  # batches: the batches submit cuts them into. batch_cost_usd and
  # direct_cost_usd are Floats, or nil for a model without a price (the
  # total: when some model has none): a cost is never guessed.
  EstimateRow = Struct.new(:model, :encoding, :requests, :prompt_tokens, :output_tokens,
                           :encoding_assumed, :output_assumed, :images, :images_assumed,
                           :approximate, :batches, :has_cost, :batch_cost_usd, :direct_cost_usd,
                           keyword_init: true) do
    def self.from_raw(hash) = new(**hash).freeze

    # Priced: both costs are Floats.
    def cost? = has_cost
    # The row over every model.
    def total? = model.to_s.empty?
  end

  # What an input file will cost: models (an EstimateRow per model, in the
  # order their first requests come), total (an EstimateRow), prices (where
  # the prices came from and their date: "built in, 2026-03-21" or
  # "PATH, DATE"). Enumerable over the models.
  Estimate = Struct.new(:models, :total, :prices, keyword_init: true) do
    include Items

    def items = models
  end

  class << self
    # The prompt tokens of one request body for the endpoint url
    # ("/v1/chat/completions", "/v1/embeddings", "/v1/responses", ...), as
    # OpenAI counts them (a Tokens). body: a Hash (converted to JSON) or JSON
    # text. JSONError for a body that is not a JSON object (an Array too:
    # anything but a String goes through JSON.generate, and the library
    # says).
    def count_tokens(url, body)
      url = url.to_s
      raise InvalidArgumentError.new("count_tokens: a NUL byte in the url") if url.include?("\0")

      text = body.is_a?(String) ? body : JSON.generate(body)
      raise JSONError.new("count_tokens: a NUL byte in the JSON text") if text.include?("\0")

      rc, tokens, err = Raw.obatch_count_tokens(url, text)
      raise Error.for(rc, err) unless rc == Raw::OBATCH_OK

      Tokens.new(**tokens).freeze
    rescue JSON::JSONError => e
      raise JSONError.new("count_tokens: the body cannot be converted to JSON: #{e.message}")
    end

    # The tokens of text alone with an encoding ("o200k_base",
    # "cl100k_base"), as tiktoken's encode_ordinary counts them (an
    # Integer): the bytes of a UTF-8 (or binary) String, any other String
    # converted to UTF-8 first. InvalidArgumentError for an unknown encoding.
    def count_text_tokens(encoding, text)
      encoding = encoding.to_s
      raise InvalidArgumentError.new("count_text_tokens: a NUL byte in the encoding name") if encoding.include?("\0")
      raise TypeError, "count_text_tokens: the text must be a String, not #{text.class}" unless text.is_a?(String)

      unless [Encoding::UTF_8, Encoding::BINARY, Encoding::US_ASCII].include?(text.encoding)
        text = text.encode(Encoding::UTF_8)
      end
      rc, count = Raw.obatch_count_text_tokens(encoding, text)
      unless rc == Raw::OBATCH_OK
        # The C call has no message of its own: an unknown encoding is its
        # one invalid argument here.
        raise Error.for(rc, rc == Raw::OBATCH_EINVAL ? "unknown encoding #{encoding.inspect} (o200k_base or cl100k_base)" : nil)
      end

      count
    end

    # What an input file will cost before anything is sent (an Estimate):
    # per model and in total, the requests, exact prompt tokens, output
    # tokens (an upper bound), the batches, and the cost in batch mode and
    # with direct requests (USD) from a dated price table. prices: a price
    # table of the format of data/prices/openai.tsv (nil: the built-in one);
    # the other keywords are the config. The file gets every check of
    # add_file first: a file with a problem raises (check_file lists them).
    def estimate_file(path, prices: nil, **options)
      Config.with(options) do |conf|
        rc, estimate, err = Raw.obatch_estimate_file(conf, path.to_s, prices&.to_s)
        raise Error.for(rc, err) unless rc == Raw::OBATCH_OK

        begin
          rows = []
          loop do
            rc, row = Raw.obatch_estimate_next(estimate)
            break if rc == Raw::OBATCH_END
            raise Error.for(rc) unless rc == Raw::OBATCH_OK

            rows << EstimateRow.from_raw(row)
          end
          total = rows.pop
          raise InternalError.new("estimate_file: no total row") unless total&.total?

          Estimate.new(models: rows.freeze, total: total, prices: Raw.obatch_estimate_prices(estimate)).freeze
        ensure
          Raw.obatch_estimate_destroy(estimate)
        end
      end
    end
  end
end
