// BatchInput: validated requests streamed to a JSONL file, with the batch
// rules (one endpoint, one model, limits) and all-or-nothing file appends.
#include <unistd.h>

#include "core/batch_input.hpp"
#include "unit_support.hpp"
#include "util/sha256.hpp"

using obatch::BatchInput;
using obatch::InputRules;
using obatch::Request;

static Request chat(const std::string &custom_id, const std::string &model = "gpt-4o",
                    const std::string &content = "hi") {
  std::string body =
      R"({"model":")" + model + R"(","messages":[{"role":"user","content":")" + content + R"("}]})";
  return obatch::parse_request_body(body, custom_id, "", "test");
}

static Request embed(const std::string &custom_id, int inputs) {
  std::string list;
  for (int i = 0; i < inputs; i++) list += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  return obatch::parse_request_body(R"({"model":"text-embedding-3-small","input":[)" + list + "]}",
                                    custom_id, "", "test");
}

static std::string chat_line(const std::string &custom_id, const std::string &model = "gpt-4o") {
  return R"({"custom_id":")" + custom_id +
         R"(","method":"POST","url":"/v1/chat/completions","body":{"model":")" + model +
         R"(","messages":[{"role":"user","content":"hi"}]}})";
}

static InputRules openai_like() {
  InputRules r;
  r.provider = "openai";
  r.one_model = true;
  return r;
}

static void lines_are_written_exactly(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.append(chat("first"), "request 1");
  in.append(chat("", "gpt-4o", "say \\\"x\\\""), "request 2");
  in.finish();
  const std::string want =
      R"({"custom_id":"first","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}})"
      "\n"
      R"({"custom_id":"req-2","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o","messages":[{"role":"user","content":"say \"x\""}]}})"
      "\n";
  assert_str_eq(unit::read_all(in.path()), want);
  assert_int_equal(in.count(), 2);
  assert_int_equal(in.bytes(), want.size());
  assert_str_eq(in.endpoint(), "/v1/chat/completions");
  assert_str_eq(in.model(), "gpt-4o");
  assert_int_equal(in.ids().find("req-2"), 1);
}

static void custom_id_is_json_escaped(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.append(chat("a\"b\\c"), "request 1");
  in.finish();
  assert_contains(unit::read_all(in.path()), R"({"custom_id":"a\"b\\c","method")");
}

static void auto_ids_are_prefix_n(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "job7");
  assert_str_eq(in.next_custom_id(), "job7-1");
  for (int i = 1; i <= 3; i++) in.append(chat(""), "request " + std::to_string(i));
  assert_str_eq(in.ids().at(0), "job7-1");
  assert_str_eq(in.ids().at(1), "job7-2");
  assert_str_eq(in.ids().at(2), "job7-3");
  assert_str_eq(in.next_custom_id(), "job7-4");
}

static void auto_ids_step_around_the_callers_ids(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.append(chat("req-2"), "request 1");  // the caller took what request 2 would get
  in.append(chat(""), "request 2");
  in.append(chat(""), "request 3");
  assert_str_eq(in.ids().at(1), "req-2-2");
  assert_str_eq(in.ids().at(2), "req-3");
}

// Generated ids skip their lookup until a caller's id looks like one; from
// then on every generated id is looked up, also for ids taken after it.
static void auto_ids_look_up_once_a_callers_id_has_the_prefix(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.append(chat(""), "request 1");
  in.append(chat("req2"), "request 2");  // no dash: cannot be a generated id
  in.append(chat("req-5"), "request 3");
  in.append(chat(""), "request 4");
  in.append(chat(""), "request 5");
  assert_str_eq(in.ids().at(0), "req-1");
  assert_str_eq(in.ids().at(3), "req-4");
  assert_str_eq(in.ids().at(4), "req-5-2");
  assert_int_equal(in.count(), 5);
}

static void duplicate_names_the_earlier_request(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.append(chat("a"), "request 1");
  in.append(chat("b"), "request 2");
  uint64_t bytes = in.bytes();
  EXPECT_ERROR(OBATCH_EDUPLICATE, "request 3: custom_id \"b\" is already used by request 2",
               in.append(chat("b"), "request 3"));
  assert_int_equal(in.count(), 2);
  assert_int_equal(in.bytes(), bytes);
  in.finish();
  assert_int_equal(obatch::file_size(in.path()), bytes);
}

static void mixed_urls_rejected(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.append(chat("a"), "request 1");
  std::string msg = EXPECT_ERROR(OBATCH_EREQUEST, "request 2: url \"/v1/embeddings\"",
                                 in.append(embed("b", 1), "request 2"));
  assert_contains(msg, "\"/v1/chat/completions\"");
  assert_contains(msg, "one endpoint");
  assert_int_equal(in.count(), 1);
}

static void one_model_rule(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.set_rules(openai_like());
  assert_true(in.has_rules());
  in.append(chat("a", "gpt-4o"), "request 1");
  in.append(chat("b", "gpt-4o"), "request 2");
  std::string msg =
      EXPECT_ERROR(OBATCH_EMODEL, "request 3: model \"gpt-4o-mini\" differs from \"gpt-4o\"",
                   in.append(chat("c", "gpt-4o-mini"), "request 3"));
  assert_contains(msg, "(request 1)");
  assert_contains(msg, "openai allows one model per batch");
  assert_int_equal(in.count(), 2);
}

static void mixed_models_allowed_without_rule(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  InputRules rules = openai_like();
  rules.provider = "parasail";
  rules.one_model = false;
  in.set_rules(rules);
  in.append(chat("a", "meta-llama/Llama-3.1-8B-Instruct"), "request 1");
  in.append(chat("b", "Qwen/Qwen2.5-72B-Instruct"), "request 2");
  assert_int_equal(in.count(), 2);
  assert_str_eq(in.model(), "meta-llama/Llama-3.1-8B-Instruct");  // the first one
}

static void max_requests_names_the_limit(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  InputRules rules = openai_like();
  rules.max_requests = 2;
  in.set_rules(rules);
  in.append(chat("a"), "request 1");
  in.append(chat("b"), "request 2");
  std::string msg = EXPECT_ERROR(OBATCH_ELIMIT, "request 3: the batch would have 3 requests",
                                 in.append(chat("c"), "request 3"));
  assert_contains(msg, "openai allows 2");
  assert_int_equal(in.count(), 2);
}

static void max_bytes_names_the_limit(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  InputRules rules = openai_like();
  rules.max_bytes = 1000000;
  in.set_rules(rules);
  const std::string big(600000, 'x');
  in.append(chat("a", "gpt-4o", big), "request 1");
  uint64_t bytes = in.bytes();
  std::string msg = EXPECT_ERROR(OBATCH_ELIMIT, "request 2: the input file would be ",
                                 in.append(chat("b", "gpt-4o", big), "request 2"));
  assert_contains(msg, "openai allows 1000000 bytes (1 MB)");
  assert_int_equal(in.count(), 1);
  assert_int_equal(in.bytes(), bytes);
  // A small one still fits.
  in.append(chat("c"), "request 3");
  assert_int_equal(in.count(), 2);
}

static void max_bytes_counts_the_whole_line(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  const std::string one = chat_line("a") + "\n";
  InputRules rules = openai_like();
  rules.max_bytes = one.size();  // exactly one line fits
  in.set_rules(rules);
  in.append(chat("a"), "request 1");
  assert_int_equal(in.bytes(), one.size());
  EXPECT_ERROR(OBATCH_ELIMIT, "would be " + std::to_string(2 * one.size()) + " bytes",
               in.append(chat("b"), "request 2"));
}

static void embedding_inputs_limit(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  InputRules rules = openai_like();
  rules.max_embedding_inputs = 5;
  in.set_rules(rules);
  in.append(embed("a", 3), "request 1");
  in.append(embed("b", 2), "request 2");  // exactly 5
  std::string msg = EXPECT_ERROR(OBATCH_ELIMIT, "request 3: the batch would embed 6 inputs",
                                 in.append(embed("c", 1), "request 3"));
  assert_contains(msg, "openai allows 5 per embeddings batch");
  assert_int_equal(in.count(), 2);
}

static void endpoints_allow_list(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  InputRules rules;
  rules.provider = "parasail";
  rules.endpoints = {"/v1/chat/completions", "/v1/embeddings"};
  in.set_rules(rules);
  Request r = obatch::parse_request_body(R"({"model":"org/m","input":"x"})", "a", "", "t");
  std::string msg = EXPECT_ERROR(
      OBATCH_EREQUEST, "request 1: url \"/v1/responses\" is not a batch endpoint of parasail",
      in.append(r, "request 1"));
  assert_contains(msg, "(/v1/chat/completions, /v1/embeddings)");
  assert_int_equal(in.count(), 0);
  in.append(chat("b", "org/m"), "request 1");
  assert_int_equal(in.count(), 1);
}

static void check_hook_message(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  InputRules rules = openai_like();
  std::string seen_url, seen_body;
  rules.check = [&](const std::string &url, std::string_view body) {
    seen_url = url;
    seen_body = body;
    return body.find("forbidden") != std::string::npos ? std::string("no forbidden words")
                                                       : std::string();
  };
  in.set_rules(rules);
  in.append(chat("a"), "request 1");
  assert_str_eq(seen_url, "/v1/chat/completions");
  assert_str_eq(seen_body, R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_ERROR(OBATCH_EREQUEST, "request 2: no forbidden words",
               in.append(chat("b", "gpt-4o", "forbidden"), "request 2"));
  assert_int_equal(in.count(), 1);
}

static void append_after_finish_is_estate(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.append(chat("a"), "request 1");
  in.finish();
  in.finish();  // twice is harmless
  EXPECT_ERROR(OBATCH_ESTATE, "request 2: the input is already closed",
               in.append(chat("b"), "request 2"));
}

static void unwritable_path_is_eio(void **) {
  unit::TempDir tmp;
  EXPECT_ERROR(OBATCH_EIO, "cannot create " + tmp.file("no/such/dir.jsonl"),
               BatchInput in(tmp.file("no/such/dir.jsonl"), "req"));
}

static void take_ids_hands_them_over(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.append(chat("a"), "request 1");
  in.append(chat("b"), "request 2");
  obatch::IdIndex ids = in.take_ids();
  assert_int_equal(ids.size(), 2);
  assert_int_equal(ids.find("b"), 1);
}

// ---- append_file -----------------------------------------------------------

static InputRules split_openai(uint64_t max_requests) {
  InputRules r = openai_like();
  r.max_requests = max_requests;
  r.split = true;
  return r;
}

// Split rules: the limits cut the input into parts (a model per part here)
// instead of refusing it, and write_parts puts each part's lines, in input
// order, into a file of its own.
static void split_writes_a_file_per_part(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.set_rules(split_openai(2));
  const char *models[] = {"gpt-4o", "gpt-4o-mini", "gpt-4o", "gpt-4o", "gpt-4o-mini"};
  std::string whole;
  for (int i = 0; i < 5; i++) {
    in.append(chat("r" + std::to_string(i), models[i]), "test");
    whole += chat_line("r" + std::to_string(i), models[i]) + "\n";
  }
  assert_int_equal(in.parts().size(), 3);  // 4o: r0 r2 | r3; mini: r1 r4
  in.finish();
  obatch::Sha256 sha;
  sha.update(whole.data(), whole.size());
  assert_str_eq(in.write_parts(), sha.hex());
  const auto &paths = in.part_paths();
  assert_int_equal(paths.size(), 3);
  assert_str_eq(paths[0], tmp.file("in-p1.jsonl"));
  assert_str_eq(unit::read_all(paths[0]), chat_line("r0") + "\n" + chat_line("r2") + "\n");
  assert_str_eq(unit::read_all(paths[1]),
                chat_line("r1", "gpt-4o-mini") + "\n" + chat_line("r4", "gpt-4o-mini") + "\n");
  assert_str_eq(unit::read_all(paths[2]), chat_line("r3") + "\n");
  assert_int_equal(access(in.path().c_str(), F_OK), -1);  // no second copy left
}

// One part: the input file is the part, nothing is rewritten.
static void split_of_one_part_writes_nothing(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.set_rules(split_openai(10));
  in.append(chat("a"), "test");
  in.finish();
  assert_str_eq(in.write_parts(), "");
  assert_int_equal(in.part_paths().size(), 1);
  assert_str_eq(in.part_paths()[0], in.path());
}

// A file whose last line is bad adds nothing: the cut is rolled back too.
static void split_file_append_is_all_or_nothing(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.set_rules(split_openai(1));
  in.append(chat("a"), "test");
  const std::string src = tmp.file("src.jsonl");
  unit::write_all(src, chat_line("b") + "\n" + chat_line("c") + "\n{oops\n");
  EXPECT_ERROR(OBATCH_EJSON, "line 3", in.append_file(src));
  assert_int_equal(in.parts().size(), 1);
  in.append(chat("d"), "test");
  assert_int_equal(in.parts().size(), 2);
  assert_int_equal(in.parts()[1].first, 1);
}

// What no part can take is still refused, with the line and the limit.
static void split_refuses_a_request_too_big_for_any_part(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  InputRules r = split_openai(0);
  r.max_bytes = 150;
  r.max_embedding_inputs = 3;
  in.set_rules(r);
  in.append(chat("a"), "test");
  EXPECT_ERROR(OBATCH_ELIMIT, "so no batch can hold it",
               in.append(chat("big", "gpt-4o", std::string(200, 'x')), "request 2"));
  BatchInput emb(tmp.file("emb.jsonl"), "req");
  emb.set_rules(r);
  emb.append(embed("e1", 3), "test");
  EXPECT_ERROR(OBATCH_ELIMIT, "has 4 inputs to embed", emb.append(embed("e2", 4), "request 2"));
  emb.append(embed("e3", 1), "test");
  assert_int_equal(emb.parts().size(), 2);
}

static void append_file_good(void **) {
  unit::TempDir tmp;
  const std::string src = tmp.file("src.jsonl");
  const std::string text = chat_line("x1") + "\n" + chat_line("x2") + "\n" + chat_line("x3") + "\n";
  unit::write_all(src, text);
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.set_rules(openai_like());
  // The digest is of the bytes read, whatever the file holds later.
  assert_str_eq(in.append_file(src), obatch::sha256_file_hex(src));
  unit::write_all(src, chat_line("changed") + "\n");
  assert_int_equal(in.count(), 3);
  assert_int_equal(in.ids().find("x3"), 2);
  in.finish();
  // Already-minified lines come out byte for byte.
  assert_str_eq(unit::read_all(in.path()), text);
}

static void append_file_without_final_newline(void **) {
  unit::TempDir tmp;
  const std::string src = tmp.file("src.jsonl");
  unit::write_all(src, chat_line("x1") + "\n" + chat_line("x2"));
  BatchInput in(tmp.file("in.jsonl"), "req");
  assert_str_eq(in.append_file(src), obatch::sha256_file_hex(src));
  assert_int_equal(in.count(), 2);
}

static void append_file_trailing_blank_line_ok(void **) {
  unit::TempDir tmp;
  const std::string src = tmp.file("src.jsonl");
  unit::write_all(src, chat_line("x1") + "\n\n");
  BatchInput in(tmp.file("in.jsonl"), "req");
  assert_str_eq(in.append_file(src), obatch::sha256_file_hex(src));
  assert_int_equal(in.count(), 1);
}

static void append_file_bom_rejected(void **) {
  unit::TempDir tmp;
  const std::string src = tmp.file("src.jsonl");
  unit::write_all(src, "\xEF\xBB\xBF" + chat_line("x1") + "\n");
  BatchInput in(tmp.file("in.jsonl"), "req");
  std::string msg = EXPECT_ERROR(OBATCH_EJSON, src + " line 1: ", in.append_file(src));
  assert_contains(msg, "byte order mark");
  assert_int_equal(in.count(), 0);
}

static void append_file_crlf_rejected(void **) {
  unit::TempDir tmp;
  const std::string src = tmp.file("src.jsonl");
  unit::write_all(src, chat_line("x1") + "\r\n" + chat_line("x2") + "\r\n");
  BatchInput in(tmp.file("in.jsonl"), "req");
  std::string msg = EXPECT_ERROR(OBATCH_EJSON, src + " line 1: ", in.append_file(src));
  assert_contains(msg, "CR LF");
  assert_int_equal(in.count(), 0);
}

static void append_file_blank_middle_line_rejected(void **) {
  unit::TempDir tmp;
  const std::string src = tmp.file("src.jsonl");
  unit::write_all(src, chat_line("x1") + "\n  \n" + chat_line("x2") + "\n");
  BatchInput in(tmp.file("in.jsonl"), "req");
  EXPECT_ERROR(OBATCH_EJSON, src + " line 2: the line is empty", in.append_file(src));
  assert_int_equal(in.count(), 0);
}

static void append_file_empty_is_an_error(void **) {
  unit::TempDir tmp;
  const std::string src = tmp.file("empty.jsonl");
  unit::write_all(src, "");
  BatchInput in(tmp.file("in.jsonl"), "req");
  EXPECT_ERROR(OBATCH_EREQUEST, src + ": the file has no requests", in.append_file(src));
  unit::write_all(src, "\n");
  EXPECT_ERROR(OBATCH_EREQUEST, "has no requests", in.append_file(src));
  assert_int_equal(in.count(), 0);
}

// A file read in several 4 MB reads (lines cut between reads), in the layout
// obatch writes: the input is the file again, byte for byte, with each
// body's own text (1.50 and \u00e9 stay as written); a line in another
// layout has its body serialised as before.
// A file's lines are written as obatch always wrote them: each body as
// simdjson serialises it (1.50 -> 1.5, \u00e9 -> the character), so that the
// same file gives the same bytes, and the same job id, across versions; a
// body already in that form is its own slice. Across several reads.
static void append_file_in_reads_writes_bodies_as_always(void **) {
  unit::TempDir tmp;
  const std::string src = tmp.file("big.jsonl");
  std::string text, want;
  for (int i = 0; text.size() < (size_t(9) << 20); i++) {
    const std::string head =
        R"({"custom_id":"id-)" + std::to_string(i) +
        R"(","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o",)";
    const std::string tail = std::string(static_cast<size_t>(i % 300), 'y') + "\"}]}}\n";
    if (i % 3 == 0) {  // already in simdjson's form: kept as it is
      const std::string line = head + R"("messages":[{"role":"user","content":"x\n\"y\" )" + tail;
      text += line;
      want += line;
    } else {
      text +=
          head + R"("temperature":1.50,"messages":[{"role":"user","content":"caf\u00e9 \/ )" + tail;
      want += head +
              "\"temperature\":1.5,\"messages\":[{\"role\":\"user\",\"content\":\"caf\xc3\xa9 / " +
              tail;
    }
  }
  unit::write_all(src, text + "\n");  // and a blank last line
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.set_rules(openai_like());
  in.append_file(src);
  in.finish();
  assert_true(unit::read_all(in.path()) == want);

  const std::string other = tmp.file("other.jsonl");
  unit::write_all(other, R"({"method":"POST","custom_id":"o1","url":"/v1/chat/completions",)"
                         R"("body":{"model":"gpt-4o","temperature":1.50,"messages":[]}})"
                         "\n");
  BatchInput in2(tmp.file("in2.jsonl"), "req");
  EXPECT_ERROR(OBATCH_EREQUEST, other + " line 1: \"messages\" must be a non-empty array",
               in2.append_file(other));
  unit::write_all(other, R"({"method":"POST","custom_id":"o1","url":"/v1/chat/completions",)"
                         R"("body":{"model":"gpt-4o","temperature":1.50,"messages":[1]}})"
                         "\n");
  in2.append_file(other);
  in2.finish();
  assert_str_eq(unit::read_all(in2.path()),
                R"({"custom_id":"o1","method":"POST","url":"/v1/chat/completions",)"
                R"("body":{"model":"gpt-4o","temperature":1.5,"messages":[1]}})"
                "\n");
}

static void append_file_missing_is_eio(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  EXPECT_ERROR(OBATCH_EIO, "cannot open " + tmp.file("nope.jsonl"),
               in.append_file(tmp.file("nope.jsonl")));
}

static void append_file_bad_line_3_adds_nothing(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.set_rules(openai_like());
  in.append(chat("before"), "request 1");
  const uint64_t bytes = in.bytes();

  const std::string src = tmp.file("src.jsonl");
  unit::write_all(src, chat_line("f1") + "\n" + chat_line("f2") + "\n" +
                           R"({"custom_id":"f3","method":"GET"})" + "\n" + chat_line("f4") + "\n");
  std::string msg = EXPECT_ERROR(OBATCH_EREQUEST, src + " line 3: ", in.append_file(src));
  assert_contains(msg, "\"method\" must be \"POST\"");
  assert_int_equal(in.count(), 1);
  assert_int_equal(in.bytes(), bytes);
  assert_int_equal(obatch::file_size(in.path()), bytes);  // the lines written are gone
  assert_true(in.ids().find("f1") == obatch::IdIndex::npos);

  // The batch goes on: the ids of the failed file are free again.
  in.append(chat("f1"), "request 2");
  in.finish();
  assert_str_eq(unit::read_all(in.path()), chat_line("before") + "\n" + chat_line("f1") + "\n");
}

static void append_file_rollback_restores_endpoint_and_model(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.set_rules(openai_like());
  const std::string src = tmp.file("src.jsonl");
  unit::write_all(src, chat_line("a", "gpt-4o") + "\n" + chat_line("b", "gpt-4.1") + "\n");
  EXPECT_ERROR(OBATCH_EMODEL, src + " line 2: model \"gpt-4.1\"", in.append_file(src));
  assert_str_eq(in.endpoint(), "");
  assert_str_eq(in.model(), "");
  // Nothing holds the batch to chat or to gpt-4o any more.
  in.append(embed("e", 2), "request 1");
  assert_str_eq(in.endpoint(), "/v1/embeddings");
  assert_str_eq(in.model(), "text-embedding-3-small");
}

static void append_file_duplicate_of_earlier_append(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.append(chat("dup"), "request 1");
  const std::string src = tmp.file("src.jsonl");
  unit::write_all(src, chat_line("new") + "\n" + chat_line("dup") + "\n");
  EXPECT_ERROR(OBATCH_EDUPLICATE, src + " line 2: custom_id \"dup\" is already used by request 1",
               in.append_file(src));
  assert_int_equal(in.count(), 1);
}

static void models_lists_the_distinct_ones(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  assert_str_eq(in.models(), "");
  in.append(chat("a", "org/m1"), "request 1");
  in.append(chat("b", "org/m2"), "request 2");
  in.append(chat("c", "org/m1"), "request 3");
  assert_str_eq(in.models(), "org/m1,org/m2");
  // A failed request leaves no model behind.
  EXPECT_ERROR(OBATCH_EDUPLICATE, "request 4", in.append(chat("a", "org/m3"), "request 4"));
  assert_str_eq(in.models(), "org/m1,org/m2");
  for (int i = 3; i <= 9; i++)
    in.append(chat("m" + std::to_string(i), "org/m" + std::to_string(i)), "request");
  assert_str_eq(in.models(), "org/m1,org/m2,org/m3,org/m4,org/m5,org/m6,org/m7,org/m8,...");
}

static void models_rolled_back_with_a_file(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.append(chat("a", "org/m1"), "request 1");
  const std::string src = tmp.file("src.jsonl");
  unit::write_all(src, chat_line("b", "org/m2") + "\n" + chat_line("a", "org/m3") + "\n");
  EXPECT_ERROR(OBATCH_EDUPLICATE, "line 2", in.append_file(src));
  assert_str_eq(in.models(), "org/m1");
}

// An input with no path checks and counts as if it wrote.
static void no_path_writes_nothing(void **) {
  BatchInput in("", "req");
  in.set_rules(openai_like());
  in.append(chat("a"), "request 1");
  in.append(chat(""), "request 2");
  EXPECT_ERROR(OBATCH_EDUPLICATE, "request 3", in.append(chat("a"), "request 3"));
  assert_int_equal(in.count(), 2);
  assert_int_equal(in.bytes(), chat_line("a").size() + chat_line("req-2").size() + 2);
  assert_str_eq(in.path(), "");
  in.finish();
  EXPECT_ERROR(OBATCH_ESTATE, "already closed", in.append(chat("b"), "request 3"));
}

static void framing_checks(void **) {
  assert_true(obatch::check_jsonl_framing("{}", 1, false, "w"));
  assert_true(obatch::check_jsonl_framing("{}", 2, true, "w"));
  EXPECT_ERROR(OBATCH_EJSON, "w: the file starts with a UTF-8 byte order mark",
               obatch::check_jsonl_framing("\xEF\xBB\xBF{}", 1, false, "w"));
  // A BOM further down is the JSON parser's business.
  assert_true(obatch::check_jsonl_framing("\xEF\xBB\xBF{}", 2, false, "w"));
  EXPECT_ERROR(OBATCH_EJSON, "w: the file is UTF-16 text",
               obatch::check_jsonl_framing(std::string("\xFF\xFE{\0", 4), 1, false, "w"));
  EXPECT_ERROR(OBATCH_EJSON, "w: the file is UTF-16 text",
               obatch::check_jsonl_framing(std::string("\xFE\xFF\0{", 4), 1, false, "w"));
  EXPECT_ERROR(OBATCH_EJSON, "CR LF", obatch::check_jsonl_framing("{}\r", 3, true, "w"));
  EXPECT_ERROR(OBATCH_EJSON, "w: the line is empty",
               obatch::check_jsonl_framing(" \t", 3, false, "w"));
  assert_false(obatch::check_jsonl_framing("", 3, true, "w"));
}

// A file's requests are named by their line in later messages; requests
// added one by one keep "request N".
static void later_messages_name_the_earlier_line(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.set_rules(openai_like());
  in.append(chat("api", "gpt-4o"), "request 1");
  const std::string src = tmp.file("src.jsonl");
  unit::write_all(src, chat_line("x") + "\n" + chat_line("y") + "\n" + chat_line("x") + "\n");
  EXPECT_ERROR(OBATCH_EDUPLICATE, src + " line 3: custom_id \"x\" is already used by line 1",
               in.append_file(src));
  unit::write_all(src, chat_line("x") + "\n" + chat_line("api") + "\n");
  EXPECT_ERROR(OBATCH_EDUPLICATE, src + " line 2: custom_id \"api\" is already used by request 1",
               in.append_file(src));
  unit::write_all(src, chat_line("x") + "\n");
  in.append_file(src);
  in.append(chat("z", "gpt-4o"), "request 3");
  EXPECT_ERROR(OBATCH_EDUPLICATE,
               "request 4: custom_id \"x\" is already used by " + src + " line 1",
               in.append(chat("x", "gpt-4o"), "request 4"));
  EXPECT_ERROR(OBATCH_EDUPLICATE, "request 4: custom_id \"z\" is already used by request 3",
               in.append(chat("z", "gpt-4o"), "request 4"));

  BatchInput models("", "req");
  models.set_rules(openai_like());
  unit::write_all(src, chat_line("a", "gpt-4o") + "\n" + chat_line("b", "gpt-4.1") + "\n");
  EXPECT_ERROR(OBATCH_EMODEL, "differs from \"gpt-4o\" (line 1)", models.append_file(src));
}

// With several files in one batch, a line of another file is named with
// its file; a failed file is forgotten with its requests.
static void later_messages_name_the_file_of_another_file(void **) {
  unit::TempDir tmp;
  BatchInput in(tmp.file("in.jsonl"), "req");
  in.set_rules(openai_like());
  const std::string a = tmp.file("a.jsonl"), b = tmp.file("b.jsonl"), c = tmp.file("c.jsonl");
  unit::write_all(a, chat_line("a1") + "\n" + chat_line("shared") + "\n");
  unit::write_all(b, chat_line("b1") + "\n" + chat_line("b2") + "\n" + chat_line("b1") + "\n");
  unit::write_all(c, chat_line("c1") + "\n" + chat_line("shared") + "\n");
  in.append_file(a);
  EXPECT_ERROR(OBATCH_EDUPLICATE, b + " line 3: custom_id \"b1\" is already used by line 1",
               in.append_file(b));
  // b's requests are gone: b1 is free again, and c's duplicate names a's line.
  in.append(chat("b1", "gpt-4o"), "request 3");
  EXPECT_ERROR(OBATCH_EDUPLICATE,
               c + " line 2: custom_id \"shared\" is already used by " + a + " line 2",
               in.append_file(c));
  EXPECT_ERROR(OBATCH_EDUPLICATE, "request 4: custom_id \"b1\" is already used by request 3",
               in.append(chat("b1", "gpt-4o"), "request 4"));
  EXPECT_ERROR(OBATCH_EDUPLICATE, "request 4: custom_id \"a1\" is already used by " + a + " line 1",
               in.append(chat("a1", "gpt-4o"), "request 4"));
  assert_int_equal(in.count(), 3);
}

// Values quoted in messages are escaped and cut: a 1 MB url or field name
// does not come back as a 1 MB message.
static void long_values_are_cut_in_messages(void **) {
  BatchInput in("", "req");
  InputRules rules = openai_like();
  rules.endpoints = {"/v1/chat/completions"};
  in.set_rules(rules);
  Request r = chat("a");
  r.url = "/v1/" + std::string(1 << 20, 'x');
  std::string msg = EXPECT_ERROR(OBATCH_EREQUEST, "(1048580 bytes) is not a batch endpoint",
                                 in.append(r, "request 1"));
  assert_true(msg.size() < 400);
  r.url = "/v1/x\n\x1b[31m";
  msg = EXPECT_ERROR(OBATCH_EREQUEST, "url \"/v1/x\\n\\u001b[31m\" is not",
                     in.append(r, "request 1"));
}

// The first request of a file, read with line 1's checks (what
// Batch::add_file needs to pick the provider).
static void first_file_request_checks_line_one(void **) {
  unit::TempDir tmp;
  const std::string src = tmp.file("src.jsonl");
  unit::write_all(src, chat_line("a", "org/m") + "\nnot json\n");
  assert_str_eq(obatch::first_file_request(src).model, "org/m");
  unit::write_all(src, "\n" + chat_line("a") + "\n");
  EXPECT_ERROR(OBATCH_EJSON, src + " line 1: the line is empty", obatch::first_file_request(src));
  unit::write_all(src, chat_line("a") + "\r\n");
  EXPECT_ERROR(OBATCH_EJSON, src + " line 1: the line ends in CR LF",
               obatch::first_file_request(src));
  unit::write_all(src, "\xEF\xBB\xBF" + chat_line("a") + "\n");
  EXPECT_ERROR(OBATCH_EJSON, "byte order mark", obatch::first_file_request(src));
  unit::write_all(src, "{\"custom_id\":1}\n");
  EXPECT_ERROR(OBATCH_EREQUEST, src + " line 1: field \"custom_id\" must be a string",
               obatch::first_file_request(src));
  for (const char *empty : {"", "\n", "  "}) {
    unit::write_all(src, empty);
    EXPECT_ERROR(OBATCH_EREQUEST, src + ": the file has no requests",
                 obatch::first_file_request(src));
  }
  EXPECT_ERROR(OBATCH_EIO, "cannot open", obatch::first_file_request(tmp.file("none.jsonl")));
}

static const struct CMUnitTest batch_input_tests[] = {
    cmocka_unit_test(later_messages_name_the_earlier_line),
    cmocka_unit_test(later_messages_name_the_file_of_another_file),
    cmocka_unit_test(long_values_are_cut_in_messages),
    cmocka_unit_test(first_file_request_checks_line_one),
    cmocka_unit_test(models_lists_the_distinct_ones),
    cmocka_unit_test(models_rolled_back_with_a_file),
    cmocka_unit_test(no_path_writes_nothing),
    cmocka_unit_test(framing_checks),
    cmocka_unit_test(lines_are_written_exactly),
    cmocka_unit_test(custom_id_is_json_escaped),
    cmocka_unit_test(auto_ids_are_prefix_n),
    cmocka_unit_test(auto_ids_step_around_the_callers_ids),
    cmocka_unit_test(auto_ids_look_up_once_a_callers_id_has_the_prefix),
    cmocka_unit_test(duplicate_names_the_earlier_request),
    cmocka_unit_test(mixed_urls_rejected),
    cmocka_unit_test(one_model_rule),
    cmocka_unit_test(mixed_models_allowed_without_rule),
    cmocka_unit_test(max_requests_names_the_limit),
    cmocka_unit_test(max_bytes_names_the_limit),
    cmocka_unit_test(max_bytes_counts_the_whole_line),
    cmocka_unit_test(embedding_inputs_limit),
    cmocka_unit_test(endpoints_allow_list),
    cmocka_unit_test(check_hook_message),
    cmocka_unit_test(append_after_finish_is_estate),
    cmocka_unit_test(unwritable_path_is_eio),
    cmocka_unit_test(take_ids_hands_them_over),
    cmocka_unit_test(append_file_good),
    cmocka_unit_test(split_writes_a_file_per_part),
    cmocka_unit_test(split_of_one_part_writes_nothing),
    cmocka_unit_test(split_file_append_is_all_or_nothing),
    cmocka_unit_test(split_refuses_a_request_too_big_for_any_part),
    cmocka_unit_test(append_file_without_final_newline),
    cmocka_unit_test(append_file_trailing_blank_line_ok),
    cmocka_unit_test(append_file_bom_rejected),
    cmocka_unit_test(append_file_crlf_rejected),
    cmocka_unit_test(append_file_blank_middle_line_rejected),
    cmocka_unit_test(append_file_empty_is_an_error),
    cmocka_unit_test(append_file_in_reads_writes_bodies_as_always),
    cmocka_unit_test(append_file_missing_is_eio),
    cmocka_unit_test(append_file_bad_line_3_adds_nothing),
    cmocka_unit_test(append_file_rollback_restores_endpoint_and_model),
    cmocka_unit_test(append_file_duplicate_of_earlier_append),
};

OBATCH_TEST_MAIN(batch_input_tests, nullptr, nullptr)
