// Custom ids a provider refuses: mapped to ids it takes, and back.
#include <set>

#include "core/id_map.hpp"
#include "providers/anthropic.hpp"
#include "unit_support.hpp"

using obatch::IdIndex;
using obatch::IdMap;

static bool anthropic(const std::string &id) { return obatch::anthropic_accepts_custom_id(id); }

static IdIndex ids_of(std::initializer_list<const char *> ids) {
  IdIndex index;
  for (const char *id : ids) assert_true(index.add(id));
  return index;
}

static void accepted_ids_are_not_mapped(void **) {
  IdIndex ids = ids_of({"req-1", "A_b-9", std::string(64, 'x').c_str()});
  assert_true(obatch::map_custom_ids(ids, anthropic).empty());
  assert_str_eq(obatch::id_map_json({}), "");
}

static void refused_ids_map_to_accepted_unique_ids_and_back(void **) {
  const std::string long_id(65, 'a');
  IdIndex ids = ids_of({"ok-1", "has space", "ünïcödé", "a/b", long_id.c_str(), "x.y"});
  IdMap map = obatch::map_custom_ids(ids, anthropic);
  assert_int_equal(map.size(), 5);
  std::set<std::string> sent;
  for (auto &kv : map) {
    assert_true(anthropic(kv.second));
    assert_int_equal(kv.second.rfind("obm-", 0), 0);
    assert_true(sent.insert(kv.second).second);  // no two ids share one
  }
  // Round trip through the journal's JSON and back to the user's ids.
  IdMap again = obatch::parse_id_map(obatch::id_map_json(map), "test");
  assert_true(again == map);
  auto back = obatch::invert_id_map(again);
  for (const char *id : {"has space", "ünïcödé", "a/b", "x.y"})
    assert_str_eq(back.at(map.at(id)), id);
  assert_str_eq(back.at(map.at(long_id)), long_id);
  // The same input gives the same map (a resumed job rebuilds it).
  assert_true(obatch::map_custom_ids(ids, anthropic) == map);
}

static void a_mapped_id_never_takes_an_id_sent_as_is(void **) {
  // The user's second id is exactly what the first would be mapped to.
  IdIndex probe = ids_of({"a b"});
  const std::string taken = obatch::map_custom_ids(probe, anthropic).at("a b");
  IdIndex ids = ids_of({"a b", taken.c_str()});
  IdMap map = obatch::map_custom_ids(ids, anthropic);
  assert_int_equal(map.size(), 1);
  assert_str_eq(map.at("a b"), taken + "-2");
  // And a third: the suffix counts on past every id taken.
  IdIndex more = ids_of({"a b", taken.c_str(), (taken + "-2").c_str()});
  assert_str_eq(obatch::map_custom_ids(more, anthropic).at("a b"), taken + "-3");
}

static void a_mapped_form_the_provider_refuses_is_an_error(void **) {
  IdIndex ids = ids_of({"anything"});
  EXPECT_ERROR(OBATCH_EINVAL, "refused as well",
               obatch::map_custom_ids(ids, [](const std::string &) { return false; }));
}

static void a_bad_map_is_a_protocol_error(void **) {
  EXPECT_ERROR(OBATCH_EPROTOCOL, "job 1", obatch::parse_id_map("[1]", "job 1"));
  EXPECT_ERROR(OBATCH_EPROTOCOL, "not a string", obatch::parse_id_map("{\"a\":1}", "job 1"));
  assert_true(obatch::parse_id_map("", "job 1").empty());
}

static const struct CMUnitTest id_map_tests[] = {
    cmocka_unit_test(accepted_ids_are_not_mapped),
    cmocka_unit_test(refused_ids_map_to_accepted_unique_ids_and_back),
    cmocka_unit_test(a_mapped_id_never_takes_an_id_sent_as_is),
    cmocka_unit_test(a_mapped_form_the_provider_refuses_is_an_error),
    cmocka_unit_test(a_bad_map_is_a_protocol_error),
};

OBATCH_TEST_MAIN(id_map_tests, nullptr, nullptr)
