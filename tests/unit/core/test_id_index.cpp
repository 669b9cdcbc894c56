// IdIndex: custom_ids in input order with a hash lookup whose keys are views
// into the stored strings.
#include <string>
#include <vector>

#include "core/id_index.hpp"
#include "unit_support.hpp"

using obatch::IdIndex;

static void add_and_find(void **) {
  IdIndex ids;
  assert_int_equal(ids.size(), 0);
  assert_true(ids.add("a"));
  assert_true(ids.add("b"));
  assert_true(ids.add("c"));
  assert_int_equal(ids.size(), 3);
  assert_int_equal(ids.find("a"), 0);
  assert_int_equal(ids.find("c"), 2);
  assert_true(ids.find("d") == IdIndex::npos);
  assert_str_eq(ids.at(1), "b");
}

static void duplicate_is_refused(void **) {
  IdIndex ids;
  assert_true(ids.add("req-1"));
  assert_false(ids.add("req-1"));
  assert_int_equal(ids.size(), 1);
  assert_int_equal(ids.find("req-1"), 0);
}

static void lookup_from_a_temporary_key(void **) {
  IdIndex ids;
  {
    std::string temp = "short";
    ids.add(temp);
    temp = "changed";  // the index owns its own copy
  }
  assert_int_equal(ids.find(std::string("short")), 0);
  assert_true(ids.find("changed") == IdIndex::npos);
}

static void truncate_drops_the_tail(void **) {
  IdIndex ids;
  for (const char *id : {"a", "b", "c", "d"}) ids.add(id);
  ids.truncate(2);
  assert_int_equal(ids.size(), 2);
  assert_true(ids.find("c") == IdIndex::npos);
  assert_true(ids.find("d") == IdIndex::npos);
  assert_int_equal(ids.find("b"), 1);
  // Dropped ids can be added again, at new positions.
  assert_true(ids.add("d"));
  assert_int_equal(ids.find("d"), 2);
  ids.truncate(10);  // beyond the end: nothing happens
  assert_int_equal(ids.size(), 3);
  ids.truncate(0);
  assert_int_equal(ids.size(), 0);
  assert_true(ids.find("a") == IdIndex::npos);
}

static void clear_empties(void **) {
  IdIndex ids;
  ids.add("x");
  ids.clear();
  assert_int_equal(ids.size(), 0);
  assert_true(ids.find("x") == IdIndex::npos);
  assert_true(ids.add("x"));
}

static void views_stay_valid_after_many_adds(void **) {
  // Short ids live inside std::string (SSO): if the container moved them,
  // the hash keys would dangle. 10k adds force many blocks and rehashes.
  IdIndex ids;
  const int n = 10000;
  for (int i = 0; i < n; i++) assert_true(ids.add("id-" + std::to_string(i)));
  assert_int_equal(ids.size(), n);
  for (int i = 0; i < n; i++) {
    std::string id = "id-" + std::to_string(i);
    assert_int_equal(ids.find(id), i);
    assert_str_eq(ids.at(i), id);
  }
  assert_false(ids.add("id-0"));
  assert_false(ids.add("id-9999"));
}

static void moved_index_keeps_working(void **) {
  IdIndex a;
  for (int i = 0; i < 100; i++) a.add("m" + std::to_string(i));
  IdIndex b = std::move(a);
  assert_int_equal(b.size(), 100);
  assert_int_equal(b.find("m42"), 42);
  assert_false(b.add("m42"));
}

// Ids packed over several blocks, a truncate inside an earlier block, and
// ids longer than a block.
static void truncate_across_blocks(void **) {
  IdIndex ids;
  const std::string big(3 << 20, 'x');  // longer than a block
  for (int i = 0; i < 200000; i++) assert_true(ids.add("request-" + std::to_string(i)));
  assert_true(ids.add(big));
  assert_true(ids.add("after"));
  assert_int_equal(ids.find(big), 200000);
  ids.truncate(1000);
  assert_int_equal(ids.size(), 1000);
  assert_true(ids.find(big) == IdIndex::npos);
  assert_true(ids.find("request-1000") == IdIndex::npos);
  assert_int_equal(ids.find("request-999"), 999);
  assert_true(ids.add("request-1000"));
  assert_str_eq(ids.at(1000), "request-1000");
  assert_str_eq(ids.at(999), "request-999");
  assert_true(ids.add(big));
  assert_int_equal(ids.find(big), 1001);
}

// find_many answers exactly as find does, hits and misses mixed, across
// more than one group of lookups and ids whose hashes collide in the table.
static void find_many_agrees_with_find(void **) {
  IdIndex ids;
  for (int i = 0; i < 5000; i++) assert_true(ids.add("id-" + std::to_string(i)));
  std::vector<std::string> keys;
  for (int i = 0; i < 300; i++)
    keys.push_back(i % 3 == 0 ? "absent-" + std::to_string(i) : "id-" + std::to_string(i * 13));
  keys.push_back("");
  std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<uint64_t> pos(views.size(), 7);
  ids.find_many(views.data(), views.size(), pos.data());
  for (size_t k = 0; k < keys.size(); k++) assert_int_equal(pos[k], ids.find(keys[k]));
  assert_int_equal(pos[1], 13);
  assert_true(pos[0] == IdIndex::npos);

  IdIndex empty;
  empty.find_many(views.data(), 2, pos.data());
  assert_true(pos[0] == IdIndex::npos && pos[1] == IdIndex::npos);
}

// Ids added with add_new enter the table a group at a time; until then
// every call still sees them: find, find_many, add's duplicate check,
// truncate (across the group and the table) and a move.
static void ids_added_new_are_seen_at_once(void **) {
  IdIndex ids;
  std::vector<std::string> names;
  for (int i = 0; i < 1000; i++) names.push_back("request-" + std::to_string(i + 1));
  for (int i = 0; i < 1000; i++) {
    ids.add_new(names[i]);
    assert_int_equal(ids.size(), i + 1);
    // The one just added and one from an earlier group.
    assert_int_equal(ids.find(names[i]), i);
    assert_int_equal(ids.find(names[i / 2]), i / 2);
  }
  assert_true(ids.find("request-1001") == IdIndex::npos);
  // 1000 = 15 groups of 64 and 40 not yet in the table.
  assert_false(ids.add("request-1000"));
  assert_false(ids.add("request-3"));
  assert_true(ids.add("mine"));
  assert_int_equal(ids.find("mine"), 1000);

  for (int i = 1001; i < 1030; i++) ids.add_new("request-" + std::to_string(i));
  std::vector<std::string_view> views = {"request-1029", "request-1", "nope", "mine",
                                         "request-1010"};
  std::vector<uint64_t> pos(views.size());
  ids.find_many(views.data(), views.size(), pos.data());
  assert_int_equal(pos[0], 1028 + 1);
  assert_int_equal(pos[1], 0);
  assert_true(pos[2] == IdIndex::npos);
  assert_int_equal(pos[3], 1000);
  assert_int_equal(pos[4], 1009 + 1);

  // Dropping ids some of which wait for the table.
  ids.truncate(1020);
  assert_int_equal(ids.size(), 1020);
  assert_true(ids.find("request-1025") == IdIndex::npos);
  assert_int_equal(ids.find("request-1015"), 1015);
  assert_true(ids.add("request-1025"));
  // An index of only waiting ids, truncated and moved.
  IdIndex few;
  for (int i = 0; i < 10; i++) few.add_new(names[i]);
  few.truncate(5);
  assert_true(few.find(names[7]) == IdIndex::npos);
  assert_int_equal(few.find(names[4]), 4);
  few.add_new(names[5]);
  few.place_pending();
  IdIndex moved = std::move(few);
  assert_int_equal(moved.size(), 6);
  assert_int_equal(moved.find(names[5]), 5);
  assert_false(moved.add(names[0]));
}

static const struct CMUnitTest id_index_tests[] = {
    cmocka_unit_test(find_many_agrees_with_find),
    cmocka_unit_test(truncate_across_blocks),
    cmocka_unit_test(add_and_find),
    cmocka_unit_test(duplicate_is_refused),
    cmocka_unit_test(lookup_from_a_temporary_key),
    cmocka_unit_test(truncate_drops_the_tail),
    cmocka_unit_test(clear_empties),
    cmocka_unit_test(views_stay_valid_after_many_adds),
    cmocka_unit_test(moved_index_keeps_working),
    cmocka_unit_test(ids_added_new_are_seen_at_once),
};

OBATCH_TEST_MAIN(id_index_tests, nullptr, nullptr)
