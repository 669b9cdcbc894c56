// obatch serve's own store: files and batches belong to one client, batches
// list newest first with an `after` cursor, the unfinished ones are found
// again after a restart (a second open of the same file).
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "serve/serve_store.hpp"
#include "test_main.h"

using obatch::serve::BatchRow;
using obatch::serve::FileRow;
using obatch::serve::ServeStore;

static std::vector<std::string> made_dirs;

static int remove_made_dirs(void **) {
  for (const std::string &d : made_dirs) std::filesystem::remove_all(d);
  return 0;
}

static std::string temp_db() {
  char dir[] = "/tmp/obatch-store-XXXXXX";
  if (!mkdtemp(dir)) fail_msg("mkdtemp failed");
  made_dirs.push_back(dir);
  return std::string(dir) + "/serve.db";
}

static BatchRow batch(const std::string &id, const std::string &client, const char *status) {
  BatchRow b;
  b.id = id;
  b.client = client;
  b.input_file_id = "file-1";
  b.endpoint = "/v1/chat/completions";
  b.completion_window = "24h";
  b.status = status;
  return b;
}

static void files_belong_to_their_client(void **) {
  ServeStore store(temp_db());
  store.add_file(FileRow{"file-1", "alice", "in.jsonl", "batch", "/x", 10, 5});
  assert_true(store.file(std::string("alice"), "file-1").has_value());
  assert_false(store.file(std::string("bob"), "file-1").has_value());
  assert_true(store.file(std::nullopt, "file-1").has_value());
  assert_false(store.delete_file("bob", "file-1"));
  assert_true(store.delete_file("alice", "file-1"));
  assert_false(store.file(std::string("alice"), "file-1").has_value());
  assert_false(store.delete_file("alice", "file-1"));
  store.add_file(FileRow{"file-2", "alice", "a.jsonl", "batch", "/a", 1, 6});
  store.add_file(FileRow{"file-3", "alice", "out.jsonl", "batch_output", "/o", 1, 7});
  store.add_file(FileRow{"file-4", "bob", "b.jsonl", "batch", "/b", 1, 8});
  auto listed = store.files("alice", "", "", 10);  // newest first, deleted ones gone
  assert_int_equal(listed.size(), 2);
  assert_string_equal(listed[0].id.c_str(), "file-3");
  assert_int_equal(store.files("alice", "batch", "", 10).size(), 1);
  listed = store.files("alice", "", "file-3", 10);
  assert_int_equal(listed.size(), 1);
  assert_string_equal(listed[0].id.c_str(), "file-2");
  assert_int_equal(store.files("alice", "", "file-4", 10).size(), 0);  // bob's is no cursor
  store.add_owner("alice", "obq_1");
  assert_true(store.owns("alice", "obq_1"));
  assert_false(store.owns("bob", "obq_1"));
}

static void batches_page_newest_first(void **) {
  ServeStore store(temp_db());
  for (int i = 1; i <= 5; ++i)
    store.put_batch(batch("b" + std::to_string(i), "alice", "completed"));
  store.put_batch(batch("other", "bob", "completed"));
  auto page = store.batches("alice", "", 2);
  assert_int_equal(page.size(), 2);
  assert_string_equal(page[0].id.c_str(), "b5");
  assert_string_equal(page[1].id.c_str(), "b4");
  page = store.batches("alice", "b4", 10);
  assert_int_equal(page.size(), 3);
  assert_string_equal(page[0].id.c_str(), "b3");
  assert_string_equal(page[2].id.c_str(), "b1");
  assert_int_equal(store.batches("alice", "other", 10).size(), 0);  // not a cursor of hers
  assert_int_equal(store.batches("bob", "", 10).size(), 1);
  assert_false(store.batch(std::string("bob"), "b1").has_value());
}

static void updates_and_unfinished_survive_a_reopen(void **) {
  const std::string path = temp_db();
  {
    ServeStore store(path);
    store.put_batch(batch("done", "alice", "completed"));
    BatchRow running = batch("running", "alice", "validating");
    store.put_batch(running);
    running.status = "in_progress";
    running.total = 10;
    running.completed = 4;
    store.put_batch(running);  // an update, not a second row
    store.put_batch(batch("cancelling", "bob", "cancelling"));
  }
  ServeStore again(path);
  auto left = again.unfinished();
  assert_int_equal(left.size(), 2);
  assert_string_equal(left[0].id.c_str(), "running");
  assert_string_equal(left[0].status.c_str(), "in_progress");
  assert_int_equal(left[0].completed, 4);
  assert_string_equal(left[1].id.c_str(), "cancelling");
  auto counts = again.batches_by_status();
  assert_int_equal(counts["completed"], 1);
  assert_int_equal(counts["in_progress"], 1);
  assert_int_equal(again.batches("alice", "", 10).size(), 2);
}

static const struct CMUnitTest serve_store_tests[] = {
    cmocka_unit_test(files_belong_to_their_client),
    cmocka_unit_test(batches_page_newest_first),
    cmocka_unit_test(updates_and_unfinished_survive_a_reopen),
};

OBATCH_TEST_MAIN(serve_store_tests, nullptr, remove_made_dirs)
