// ResultsIndex: output + error files merged back into input order.
#include "core/results_index.hpp"
#include "unit_support.hpp"

using obatch::IdIndex;
using obatch::ResultLine;
using obatch::ResultsIndex;

static std::string ok_line(const std::string &id, const std::string &content) {
  return R"({"id":"r_)" + id + R"(","custom_id":")" + id +
         R"(","response":{"status_code":200,"request_id":"q","body":{"text":")" + content +
         R"("}},"error":null})";
}

static std::string err_line(const std::string &id) {
  return R"({"id":"r_)" + id + R"(","custom_id":")" + id +
         R"(","response":null,"error":{"code":"batch_expired","message":"expired"}})";
}

static IdIndex input_ids(std::initializer_list<const char *> ids) {
  IdIndex index;
  for (const char *id : ids) index.add(id);
  return index;
}

struct Got {
  ResultLine r;
  uint64_t input_index = 0;
  std::string line;
};

static Got get(const ResultsIndex &idx, uint64_t i) {
  Got g;
  idx.get(i, &g.r, &g.input_index, &g.line);
  return g;
}

static void merged_in_input_order(void **) {
  unit::TempDir tmp;
  IdIndex order = input_ids({"a", "b", "c", "d", "e"});
  // The API writes results in any order.
  unit::write_all(tmp.file("out.jsonl"), ok_line("c", "C") + "\n" + ok_line("a", "A") + "\n");
  unit::write_all(tmp.file("err.jsonl"), err_line("e") + "\n" + err_line("b") + "\n");
  ResultsIndex idx(&order);
  idx.add_file(tmp.file("out.jsonl"), "output file");
  idx.add_file(tmp.file("err.jsonl"), "error file");
  assert_int_equal(idx.size(), 5);
  assert_int_equal(idx.missing(), 1);

  Got g = get(idx, 0);
  assert_str_eq(g.r.custom_id, "a");
  assert_int_equal(g.r.kind, OBATCH_RESULT_SUCCEEDED);
  assert_str_eq(g.r.body, R"({"text":"A"})");
  assert_int_equal(g.input_index, 0);
  assert_str_eq(std::string(g.line), ok_line("a", "A"));

  g = get(idx, 1);
  assert_str_eq(g.r.custom_id, "b");
  assert_int_equal(g.r.kind, OBATCH_RESULT_ERROR);
  assert_str_eq(g.r.error_code, "batch_expired");

  assert_str_eq(get(idx, 2).r.custom_id, "c");
  assert_str_eq(get(idx, 4).r.custom_id, "e");
  assert_int_equal(get(idx, 4).input_index, 4);
}

static void missing_ids_come_back_missing(void **) {
  unit::TempDir tmp;
  IdIndex order = input_ids({"a", "b", "c"});
  unit::write_all(tmp.file("out.jsonl"), ok_line("b", "B") + "\n");
  ResultsIndex idx(&order);
  idx.add_file(tmp.file("out.jsonl"), "output file");
  assert_int_equal(idx.size(), 3);
  assert_int_equal(idx.missing(), 2);
  Got g = get(idx, 2);
  assert_int_equal(g.r.kind, OBATCH_RESULT_MISSING);
  assert_str_eq(g.r.custom_id, "c");
  assert_int_equal(g.input_index, 2);
  assert_true(g.line.empty());
  assert_false(g.r.has_body);
  assert_int_equal(get(idx, 0).r.kind, OBATCH_RESULT_MISSING);
  assert_int_equal(get(idx, 1).r.kind, OBATCH_RESULT_SUCCEEDED);
}

static void ids_not_in_input_come_after(void **) {
  unit::TempDir tmp;
  IdIndex order = input_ids({"a", "b"});
  unit::write_all(tmp.file("out.jsonl"), ok_line("stranger", "S") + "\n" + ok_line("a", "A") +
                                             "\n" + ok_line("b", "B") + "\n");
  ResultsIndex idx(&order);
  idx.add_file(tmp.file("out.jsonl"), "output file");
  assert_int_equal(idx.size(), 3);
  assert_int_equal(idx.missing(), 0);
  Got g = get(idx, 2);
  assert_str_eq(g.r.custom_id, "stranger");
  assert_true(g.input_index == IdIndex::npos);
  assert_str_eq(get(idx, 0).r.custom_id, "a");
}

static void without_input_results_keep_file_order(void **) {
  unit::TempDir tmp;
  unit::write_all(tmp.file("out.jsonl"), ok_line("z", "Z") + "\n" + ok_line("y", "Y") + "\n");
  unit::write_all(tmp.file("err.jsonl"), err_line("x") + "\n");
  ResultsIndex idx(nullptr);
  idx.add_file(tmp.file("out.jsonl"), "output file");
  idx.add_file(tmp.file("err.jsonl"), "error file");
  assert_int_equal(idx.size(), 3);
  assert_int_equal(idx.missing(), 0);
  assert_str_eq(get(idx, 0).r.custom_id, "z");
  assert_str_eq(get(idx, 1).r.custom_id, "y");
  assert_str_eq(get(idx, 2).r.custom_id, "x");
  assert_int_equal(idx.find("x"), 2);
}

static void first_file_wins_for_an_id_in_both(void **) {
  unit::TempDir tmp;
  IdIndex order = input_ids({"a"});
  unit::write_all(tmp.file("out.jsonl"), ok_line("a", "first") + "\n");
  unit::write_all(tmp.file("err.jsonl"), err_line("a") + "\n");
  ResultsIndex idx(&order);
  idx.add_file(tmp.file("out.jsonl"), "output file");
  idx.add_file(tmp.file("err.jsonl"), "error file");
  assert_int_equal(idx.size(), 1);
  assert_int_equal(get(idx, 0).r.kind, OBATCH_RESULT_SUCCEEDED);
}

static void truncated_file_is_eprotocol_and_kept_out(void **) {
  unit::TempDir tmp;
  IdIndex order = input_ids({"a", "b"});
  // Cut in the middle of the last line: a truncated download.
  std::string b_line = ok_line("b", "B");
  unit::write_all(tmp.file("out.jsonl"),
                  ok_line("a", "A") + "\n" + b_line.substr(0, b_line.size() / 2));
  ResultsIndex idx(&order);
  EXPECT_ERROR(OBATCH_EPROTOCOL, "output file line 2: the last line is cut off",
               idx.add_file(tmp.file("out.jsonl"), "output file"));
  assert_int_equal(idx.missing(), 2);
  assert_int_equal(get(idx, 0).r.kind, OBATCH_RESULT_MISSING);
  // A good download afterwards is taken.
  unit::write_all(tmp.file("out2.jsonl"), ok_line("a", "A") + "\n" + ok_line("b", "B") + "\n");
  idx.add_file(tmp.file("out2.jsonl"), "output file");
  assert_int_equal(idx.missing(), 0);
}

static void complete_last_line_needs_no_newline(void **) {
  unit::TempDir tmp;
  IdIndex order = input_ids({"a", "b"});
  unit::write_all(tmp.file("out.jsonl"), ok_line("a", "A") + "\n" + ok_line("b", "B"));
  ResultsIndex idx(&order);
  idx.add_file(tmp.file("out.jsonl"), "output file");
  assert_int_equal(idx.missing(), 0);
  assert_int_equal(get(idx, 1).r.kind, OBATCH_RESULT_SUCCEEDED);
}

static void unreadable_line_comes_back_as_an_error_of_its_request(void **) {
  unit::TempDir tmp;
  IdIndex order = input_ids({"a", "b", "c"});
  // b: a lone surrogate escape (JSON grammar allows it, strict parsers
  // refuse it); c: a line that is not JSON at all but names its id.
  std::string b_line =
      R"({"id":"r","custom_id":"b","response":{"status_code":200,"body":{"t":"\ud83d"}},"error":null})";
  std::string c_line = R"({"custom_id": "c", "response": {oops)";
  unit::write_all(tmp.file("out.jsonl"), ok_line("a", "A") + "\n" + b_line + "\n" + c_line + "\n" +
                                             "garbage without an id\n");
  ResultsIndex idx(&order);
  idx.add_file(tmp.file("out.jsonl"), "output file");
  assert_int_equal(idx.missing(), 0);
  assert_int_equal(idx.size(), 4);  // the id-less line is kept as an extra
  Got a = get(idx, 0);
  assert_int_equal(a.r.kind, OBATCH_RESULT_SUCCEEDED);
  Got c = get(idx, 2);
  assert_int_equal(c.r.kind, OBATCH_RESULT_ERROR);
  assert_str_eq(c.r.custom_id, "c");
  assert_str_eq(c.r.error_code, "unreadable_result_line");
  assert_contains(c.r.error_message, "output file line 3");
  assert_str_eq(c.line, c_line);  // the raw text is not lost
  Got extra = get(idx, 3);
  assert_int_equal(extra.r.kind, OBATCH_RESULT_ERROR);
  assert_str_eq(extra.line, "garbage without an id");
  assert_int_equal(extra.input_index, IdIndex::npos);
}

static void result_file_changed_on_disk_is_an_error_result(void **) {
  unit::TempDir tmp;
  IdIndex order = input_ids({"a"});
  unit::write_all(tmp.file("out.jsonl"), ok_line("a", "A") + "\n");
  ResultsIndex idx(&order);
  idx.add_file(tmp.file("out.jsonl"), "output file");
  unit::write_all(tmp.file("out.jsonl"), "");  // truncated under us
  Got a = get(idx, 0);
  assert_int_equal(a.r.kind, OBATCH_RESULT_ERROR);
  assert_contains(a.r.error_message, "changed on disk");
}

// Results are read from a map of the file made at the first fetch: a file
// replaced by rename (as obatch and editors write files) keeps giving the
// results it was indexed with, before and after the map is made.
static void result_file_replaced_by_rename_keeps_its_results(void **) {
  unit::TempDir tmp;
  IdIndex order = input_ids({"a", "b"});
  unit::write_all(tmp.file("out.jsonl"), ok_line("a", "A") + "\n" + ok_line("b", "B") + "\n");
  ResultsIndex idx(&order);
  idx.add_file(tmp.file("out.jsonl"), "output file");
  unit::write_all(tmp.file("new.jsonl"), "{}\n");
  assert_int_equal(rename(tmp.file("new.jsonl").c_str(), tmp.file("out.jsonl").c_str()), 0);
  Got a = get(idx, 0);
  assert_int_equal(a.r.kind, OBATCH_RESULT_SUCCEEDED);
  assert_contains(a.r.body, "\"A\"");
  Got b = get(idx, 1);
  assert_int_equal(b.r.kind, OBATCH_RESULT_SUCCEEDED);
  assert_contains(b.r.body, "\"B\"");
  assert_str_eq(b.line, ok_line("b", "B"));
}

// A result file of thousands of lines in shuffled order: every lookup of
// the grouped indexing lands on its own request.
static void many_shuffled_results_find_their_requests(void **) {
  unit::TempDir tmp;
  IdIndex order;
  const int n = 3000;
  for (int i = 0; i < n; i++) order.add("r" + std::to_string(i));
  std::string text;
  for (int k = 0; k < n; k++) {
    int i = (k * 7919) % n;  // 7919 is prime to 3000: each id once
    text += ok_line("r" + std::to_string(i), "c" + std::to_string(i)) + "\n";
  }
  text += ok_line("stranger", "x") + "\n";
  unit::write_all(tmp.file("out.jsonl"), text);
  ResultsIndex idx(&order);
  idx.add_file(tmp.file("out.jsonl"), "output file");
  assert_int_equal(idx.size(), n + 1);
  assert_int_equal(idx.missing(), 0);
  for (int i = 0; i < n; i++) {
    Got g = get(idx, static_cast<uint64_t>(i));
    assert_int_equal(g.input_index, i);
    assert_str_eq(g.r.custom_id, "r" + std::to_string(i));
    assert_contains(g.r.body, "\"c" + std::to_string(i) + "\"");
  }
  assert_str_eq(get(idx, n).r.custom_id, "stranger");
}

// Files of many 1 MB reads, with lines across the reads' ends, fetched from
// a map and by pread: the same input order, and every result what a parse
// of its line gives (plain lines are read without one).
static void big_files_read_both_ways(void **) {
  unit::TempDir tmp;
  const int n = 24000;
  const std::string filler(900, 'x');
  std::string input;
  for (int i = 0; i < n; i++)
    input += R"({"custom_id":"id-)" + std::to_string(i) +
             R"(","method":"POST","url":"/v1/x","body":{"p":")" + filler.substr(i % 97) + "\"}}\n";
  assert_true(input.size() > (size_t(17) << 20));
  std::string output;
  for (int k = 0; k < n; k++) {
    const int i = static_cast<int>((static_cast<int64_t>(k) * 7919) % n);
    const std::string id = "id-" + std::to_string(i);
    if (i % 11 == 0)
      output += err_line(id);
    else if (i % 7 == 0)  // not plain: whitespace in the body
      output +=
          R"({"id":"r","custom_id":")" + id +
          R"(","response":{"status_code":200,"request_id":"q","body":{"a": 1}},"error":null})";
    else if (i % 13 == 0)  // not plain: an escape
      output += ok_line(id, "tab\\t" + filler.substr(i % 89));
    else
      output += ok_line(id, filler.substr(i % 89));
    output += "\n";
  }
  output.pop_back();  // the last line without its newline
  assert_true(output.size() > (size_t(17) << 20));
  unit::write_all(tmp.file("in.jsonl"), input);
  unit::write_all(tmp.file("out.jsonl"), output);
  IdIndex order;
  obatch::load_input_order(tmp.file("in.jsonl"), "input file", &order);
  assert_int_equal(order.size(), n);
  for (int i = 0; i < n; i += 997) assert_str_eq(order.at(i), "id-" + std::to_string(i));
  for (bool mapped : {true, false}) {
    ResultsIndex idx(&order);
    idx.set_mapping(mapped);
    idx.add_file(tmp.file("out.jsonl"), "output file");
    assert_int_equal(idx.size(), n);
    assert_int_equal(idx.missing(), 0);
    for (int i = 0; i < n; i++) {
      Got g = get(idx, static_cast<uint64_t>(i));
      assert_int_equal(g.input_index, i);
      const ResultLine want = obatch::parse_result_line(g.line, "line");
      assert_str_eq(g.r.custom_id, "id-" + std::to_string(i));
      assert_int_equal(g.r.kind, want.kind);
      assert_int_equal(g.r.status_code, want.status_code);
      assert_str_eq(g.r.body, want.body);
      assert_str_eq(g.r.request_id, want.request_id);
      assert_str_eq(g.r.error_code, want.error_code);
      assert_int_equal(g.r.has_body, want.has_body);
      assert_int_equal(g.r.has_request_id, want.has_request_id);
      assert_int_equal(g.r.has_error, want.has_error);
    }
  }
}

static void line_without_response_or_error_is_an_error_result(void **) {
  unit::TempDir tmp;
  IdIndex order = input_ids({"a", "b"});
  unit::write_all(tmp.file("out.jsonl"), ok_line("a", "A") + "\n{\"custom_id\":\"b\"}\n");
  ResultsIndex idx(&order);
  idx.add_file(tmp.file("out.jsonl"), "output file");
  assert_int_equal(idx.missing(), 0);
  Got b = get(idx, 1);
  assert_int_equal(b.r.kind, OBATCH_RESULT_ERROR);
  assert_contains(b.r.error_message, "output file line 2: the result line has neither");
}

static void blank_lines_and_empty_files(void **) {
  unit::TempDir tmp;
  IdIndex order = input_ids({"a"});
  unit::write_all(tmp.file("empty.jsonl"), "");
  unit::write_all(tmp.file("out.jsonl"), "\n" + ok_line("a", "A") + "\n\n");
  ResultsIndex idx(&order);
  idx.add_file(tmp.file("empty.jsonl"), "error file");
  idx.add_file(tmp.file("out.jsonl"), "output file");
  assert_int_equal(idx.size(), 1);
  assert_int_equal(get(idx, 0).r.kind, OBATCH_RESULT_SUCCEEDED);
}

static void missing_file_is_eio(void **) {
  unit::TempDir tmp;
  ResultsIndex idx(nullptr);
  EXPECT_ERROR(OBATCH_EIO, "cannot open " + tmp.file("none.jsonl"),
               idx.add_file(tmp.file("none.jsonl"), "output file"));
}

static void find_positions(void **) {
  unit::TempDir tmp;
  IdIndex order = input_ids({"a", "b"});
  unit::write_all(tmp.file("out.jsonl"), ok_line("x", "X") + "\n" + ok_line("b", "B") + "\n");
  ResultsIndex idx(&order);
  idx.add_file(tmp.file("out.jsonl"), "output file");
  assert_int_equal(idx.find("a"), 0);  // in the input, even with no result
  assert_int_equal(idx.find("b"), 1);
  assert_int_equal(idx.find("x"), 2);
  assert_true(idx.find("nobody") == IdIndex::npos);
  assert_str_eq(get(idx, idx.find("x")).r.custom_id, "x");
}

static void input_order_from_a_file(void **) {
  unit::TempDir tmp;
  const std::string path = tmp.file("in.jsonl");
  unit::write_all(path, R"({"custom_id":"b","method":"POST"})"
                        "\n\n"
                        R"({"url":"/v1/x","custom_id":"a"})"
                        "\r\n"
                        R"({"custom_id":"c"})");
  obatch::IdIndex ids;
  obatch::load_input_order(path, "input file", &ids);
  assert_int_equal(ids.size(), 3);
  assert_str_eq(ids.at(0), "b");
  assert_str_eq(ids.at(1), "a");
  assert_str_eq(ids.at(2), "c");

  unit::write_all(path, R"({"custom_id":"x"})"
                        "\n"
                        R"({"custom_id":"y"})"
                        "\n\n"
                        R"({"custom_id":"x"})"
                        "\n");
  obatch::IdIndex dup;
  EXPECT_ERROR(OBATCH_EDUPLICATE, "input file line 4: custom_id \"x\" is already used by line 1",
               obatch::load_input_order(path, "input file", &dup));
  unit::write_all(path, R"({"custom_id":"x"})"
                        "\n"
                        "{oops\n");
  obatch::IdIndex bad;
  EXPECT_ERROR(OBATCH_EPROTOCOL, "input file line 2",
               obatch::load_input_order(path, "input file", &bad));
  obatch::IdIndex none;
  EXPECT_ERROR(OBATCH_EIO, tmp.file("nope"),
               obatch::load_input_order(tmp.file("nope"), "x", &none));
}

// The input's ids are read as a document stream while each line is one
// plain object, and line by line from the first line that is not (to the
// end of that 1 MB read): both ways take the same ids and give the same
// errors on the same lines. ~1.8 MB: the first read is all stream unless a
// case breaks it, the second has odd lines, one line is cut by a read.
static void input_order_stream_and_lines_agree(void **) {
  unit::TempDir tmp;
  const std::string path = tmp.file("in.jsonl");
  auto line = [](uint64_t i) {
    return R"({"custom_id":"id-)" + std::to_string(i) + R"(","method":"POST","url":"/v1/x"})";
  };
  std::string text;
  std::vector<std::string> want;
  const uint64_t n = 30000;
  for (uint64_t i = 0; i < n; i++) {
    // Odd lines the stream leaves to the per-line reading: leading blanks,
    // CR LF, blank lines.
    if (i == 25000) text += "  ";
    text += line(i);
    text += i == 25100 ? "\r\n" : "\n";
    if (i == 25200) text += "\n \t\n";
    want.push_back("id-" + std::to_string(i));
  }
  assert_true(text.find(line(18000)) < (size_t(1) << 20));
  unit::write_all(path, text);
  IdIndex ids;
  obatch::load_input_order(path, "input file", &ids);
  assert_int_equal(ids.size(), n);
  for (uint64_t i = 0; i < n; i++) assert_str_eq(ids.at(i), want[i]);

  // Request k is on line k + 1 (k + 3 after the two blank lines).
  struct Case {
    uint64_t at;  // the request replaced
    std::string text;
    int code;
    std::string message;
  };
  const Case cases[] = {
      {5000,
       R"({"custom_id":)"
       "\n"
       R"("id-5000"})",
       OBATCH_EPROTOCOL, "input file line 5001:"},
      {6000, R"({"custom_id":"id-6000"} {"custom_id":"z"})", OBATCH_EPROTOCOL,
       "input file line 6001:"},
      {7000, R"({"custom_id":7000})", OBATCH_EPROTOCOL, "input file line 7001:"},
      {8000, R"(["custom_id","id-8000"])", OBATCH_EPROTOCOL, "input file line 8001:"},
      {9000, R"({"custom_id":"id-10"})", OBATCH_EDUPLICATE,
       "input file line 9001: custom_id \"id-10\" is already used by line 11"},
      {10000,
       R"({"custom_id":"id-)"
       "\xff"
       R"("})",
       OBATCH_EPROTOCOL, "input file line 10001:"},
      {26000, R"({"custom_id":"id-25300"})", OBATCH_EDUPLICATE,
       "input file line 26003: custom_id \"id-25300\" is already used by line 25303"},
      {n - 1,
       R"({"custom_id":)"
       "\n"
       R"("id-x"})",
       OBATCH_EPROTOCOL, "input file line 30002:"},
  };
  for (const Case &c : cases) {
    std::string bad = text;
    const std::string old = line(c.at) + "\n";
    const size_t pos = bad.find(old);
    assert_true(pos != std::string::npos);
    bad.replace(pos, old.size(), c.text + "\n");
    unit::write_all(path, bad);
    IdIndex some;
    EXPECT_ERROR(c.code, c.message, obatch::load_input_order(path, "input file", &some));
  }
  // Two bad lines in a row: the first one's error, though a streamed id is
  // added only after the next line is read.
  std::string bad = text;
  for (uint64_t k : {12000, 12001}) {
    const std::string old = line(k) + "\n";
    bad.replace(bad.find(old), old.size(),
                k == 12000 ? R"({"custom_id":"id-1"})"
                             "\n"
                           : "{oops\n");
  }
  unit::write_all(path, bad);
  IdIndex two;
  EXPECT_ERROR(OBATCH_EDUPLICATE,
               "input file line 12001: custom_id \"id-1\" is already used by line 2",
               obatch::load_input_order(path, "input file", &two));
}

static const struct CMUnitTest results_index_tests[] = {
    cmocka_unit_test(input_order_from_a_file),
    cmocka_unit_test(input_order_stream_and_lines_agree),
    cmocka_unit_test(merged_in_input_order),
    cmocka_unit_test(missing_ids_come_back_missing),
    cmocka_unit_test(ids_not_in_input_come_after),
    cmocka_unit_test(without_input_results_keep_file_order),
    cmocka_unit_test(first_file_wins_for_an_id_in_both),
    cmocka_unit_test(truncated_file_is_eprotocol_and_kept_out),
    cmocka_unit_test(complete_last_line_needs_no_newline),
    cmocka_unit_test(unreadable_line_comes_back_as_an_error_of_its_request),
    cmocka_unit_test(result_file_changed_on_disk_is_an_error_result),
    cmocka_unit_test(result_file_replaced_by_rename_keeps_its_results),
    cmocka_unit_test(many_shuffled_results_find_their_requests),
    cmocka_unit_test(big_files_read_both_ways),
    cmocka_unit_test(line_without_response_or_error_is_an_error_result),
    cmocka_unit_test(blank_lines_and_empty_files),
    cmocka_unit_test(missing_file_is_eio),
    cmocka_unit_test(find_positions),
};

OBATCH_TEST_MAIN(results_index_tests, nullptr, nullptr)
