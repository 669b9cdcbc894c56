# frozen_string_literal: true

require_relative "test_helper"

# Tokens and cost before anything is sent, the same in Node, Go and Ruby:
# the counting guide's figures ("hello world" is 2 tokens of o200k_base; a
# chat of one user message "x" is 3 + 1 + 1 + 3 = 8), and an estimate of a
# file of 2 gpt-4o-mini requests and 1 gpt-4o request with the built-in
# prices (batch mode at half the price). Nothing here needs a server.
class TestTokens < Minitest::Test
  include ServerTest

  CHAT = { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }],
           max_completion_tokens: 5 }.freeze

  def line(id, model)
    JSON.generate(custom_id: id, method: "POST", url: "/v1/chat/completions",
                  body: { model: model, messages: [{ role: "user", content: "x" }] })
  end

  def write(name, text)
    path = File.join(work_dir, name)
    File.write(path, text)
    path
  end

  def input_file
    write("in.jsonl", [line("a", "gpt-4o-mini"), line("b", "gpt-4o-mini"), line("c", "gpt-4o")].join("\n") + "\n")
  end

  def test_count_text_tokens
    assert_equal 2, Obatch.count_text_tokens("o200k_base", "hello world")
    assert_equal 2, Obatch.count_text_tokens("cl100k_base", "hello world")
    assert_equal 0, Obatch.count_text_tokens("o200k_base", "")
    # The String's length: a NUL inside is text, not an end.
    assert_operator Obatch.count_text_tokens("o200k_base", "hello\0world"), :>, 2
    # Another encoding is counted as its UTF-8 text.
    assert_equal Obatch.count_text_tokens("o200k_base", "héllo"),
                 Obatch.count_text_tokens("o200k_base", "héllo".encode(Encoding::ISO_8859_1))
    err = assert_raises(Obatch::InvalidArgumentError) { Obatch.count_text_tokens("p50k_base", "x") }
    assert_equal(-1, err.code)
    assert_equal :EINVAL, err.code_name
    assert_match(/p50k_base/, err.message)
    assert_raises(TypeError) { Obatch.count_text_tokens("o200k_base", 42) }
  end

  def test_count_tokens
    [CHAT, JSON.generate(CHAT)].each do |body|
      t = Obatch.count_tokens("/v1/chat/completions", body)
      assert_kind_of Obatch::Tokens, t
      assert t.frozen?
      assert_equal({ encoding: "o200k_base", encoding_assumed: false, prompt_tokens: 8, output_tokens: 5,
                     output_assumed: false, images: 0, images_assumed: false, approximate: false }, t.to_h)
    end
    no_max = Obatch.count_tokens("/v1/chat/completions", CHAT.except(:max_completion_tokens).merge(n: 2))
    assert_equal 2000, no_max.output_tokens
    assert no_max.output_assumed?
    unknown = Obatch.count_tokens("/v1/chat/completions", CHAT.merge(model: "my-own-model"))
    assert_equal "o200k_base", unknown.encoding
    assert unknown.encoding_assumed?
  end

  def test_a_body_that_is_not_a_json_object
    ["[]", [], 42, '{"model": ', nil].each do |body|
      err = assert_raises(Obatch::JSONError) { Obatch.count_tokens("/v1/embeddings", body) }
      assert_equal :EJSON, err.code_name
      assert_kind_of Obatch::RequestError, err
      assert_match(/not a JSON object/, err.message)
    end
  end

  def test_estimate_file
    e = Obatch.estimate_file(input_file)
    assert_kind_of Obatch::Estimate, e
    assert_equal %w[gpt-4o-mini gpt-4o], e.map(&:model)
    mini, big = e.models
    assert_equal "o200k_base", mini.encoding
    assert_equal 2, mini.requests
    assert_equal 16, mini.prompt_tokens
    assert_equal 2000, mini.output_tokens # no max: 1000 assumed each
    assert_equal 2, mini.output_assumed
    assert_equal 1, mini.batches
    assert mini.cost?
    assert_kind_of Float, mini.direct_cost_usd
    assert_operator mini.direct_cost_usd, :>, 0
    assert_equal mini.direct_cost_usd, mini.batch_cost_usd * 2
    refute mini.total?
    assert_equal 1, big.requests
    assert_equal 8, big.prompt_tokens

    total = e.total
    assert total.total?
    assert_equal "", total.model
    assert_equal 3, total.requests
    assert_equal 24, total.prompt_tokens
    assert_equal 2, total.batches # OpenAI: one model per batch
    assert_in_delta mini.direct_cost_usd + big.direct_cost_usd, total.direct_cost_usd, 1e-12
    assert_match(/\Abuilt in, 20\d\d-\d\d-\d\d\z/, e.prices)
    assert e.frozen? && e.models.frozen? && total.frozen?

    # Config keywords go to the config: with max_requests 1, a batch a request.
    assert_equal 3, Obatch.estimate_file(input_file, max_requests: 1).total.batches
  end

  def test_estimate_file_with_prices_of_its_own
    prices = write("prices.tsv", "# date: 2030-01-01\ngpt-4o-mini\t1000000\t-\t0\t500000\t0\n")
    e = Obatch.estimate_file(input_file, prices: prices)
    assert_in_delta 16.0, e.models[0].direct_cost_usd, 1e-9 # 16 tokens at $1 each
    assert_in_delta 8.0, e.models[0].batch_cost_usd, 1e-9
    # No price: nil, never a guess; the total too.
    refute e.models[1].cost?
    assert_nil e.models[1].batch_cost_usd
    assert_nil e.models[1].direct_cost_usd
    refute e.total.cost?
    assert_nil e.total.direct_cost_usd
    assert_equal "#{prices}, 2030-01-01", e.prices
  end

  def test_estimate_file_errors_carry_the_library_message
    bad = write("bad.tsv", "gpt-4o\t1\t2\n")
    err = assert_raises(Obatch::FileError) { Obatch.estimate_file(input_file, prices: bad) }
    assert_match(/bad\.tsv line 1: 3 columns, not 6/, err.message)
    broken = write("broken.jsonl", "#{line("a", "gpt-4o-mini")}\n{oops\n")
    err = assert_raises(Obatch::JSONError) { Obatch.estimate_file(broken) }
    assert_match(/line 2/, err.message)
    err = assert_raises(Obatch::FileError) { Obatch.estimate_file(File.join(work_dir, "no-such-file.jsonl")) }
    assert_match(/no-such-file/, err.message)
    err = assert_raises(Obatch::ConfigError) { Obatch.estimate_file(input_file, no_such_key: 1) }
    assert_match(/no_such_key/, err.message)
  end
end
