// part_plan: how an input is cut into parts of one batch each.
#include "core/part_plan.hpp"
#include "unit_support.hpp"

using obatch::PartCutter;
using obatch::PartLimits;

static PartLimits limits(uint64_t requests, uint64_t bytes, uint64_t inputs, bool one_model) {
  PartLimits l;
  l.max_requests = requests;
  l.max_bytes = bytes;
  l.max_embedding_inputs = inputs;
  l.one_model = one_model;
  return l;
}

static void no_limit_is_one_part(void **) {
  PartCutter c;
  for (uint64_t i = 0; i < 1000; i++) assert_int_equal(c.place(i, i % 2 ? "a" : "b", 100, 0), 0);
  assert_int_equal(c.parts().size(), 1);
  assert_int_equal(c.parts()[0].requests, 1000);
  assert_int_equal(c.parts()[0].bytes, 100000);
  assert_int_equal(c.parts()[0].tokens, 25000);
  assert_str_eq(c.parts()[0].model, "");  // mixed models allowed: no model of its own
}

static void cut_at_the_request_limit(void **) {
  PartCutter c(limits(3, 0, 0, false));
  for (uint64_t i = 0; i < 10; i++) assert_int_equal(c.place(i, "m", 10, 0), i / 3);
  assert_int_equal(c.parts().size(), 4);
  assert_int_equal(c.parts()[3].requests, 1);
  assert_int_equal(c.parts()[3].first, 9);
}

static void cut_before_the_byte_limit_is_crossed(void **) {
  PartCutter c(limits(0, 100, 0, false));
  assert_int_equal(c.place(0, "m", 60, 0), 0);
  assert_int_equal(c.place(1, "m", 40, 0), 0);  // exactly at the limit: fits
  assert_int_equal(c.place(2, "m", 1, 0), 1);
  assert_int_equal(c.place(3, "m", 99, 0), 1);
  assert_int_equal(c.place(4, "m", 1, 0), 2);
  assert_int_equal(c.parts()[0].bytes, 100);
  assert_int_equal(c.parts()[1].bytes, 100);
}

static void cut_at_the_embedding_inputs_limit(void **) {
  PartCutter c(limits(0, 0, 5, false));
  assert_int_equal(c.place(0, "e", 10, 3), 0);
  assert_int_equal(c.place(1, "e", 10, 2), 0);
  assert_int_equal(c.place(2, "e", 10, 1), 1);
  assert_int_equal(c.parts()[0].embedding_inputs, 5);
}

static void one_model_makes_parts_per_model_in_first_request_order(void **) {
  PartCutter c(limits(2, 0, 0, true));
  const char *models[] = {"x", "y", "x", "x", "y", "z", "y"};
  const uint32_t want[] = {0, 1, 0, 2, 1, 3, 4};
  for (uint64_t i = 0; i < 7; i++) assert_int_equal(c.place(i, models[i], 10, 0), want[i]);
  assert_int_equal(c.parts().size(), 5);
  assert_str_eq(c.parts()[0].model, "x");
  assert_str_eq(c.parts()[1].model, "y");
  assert_str_eq(c.parts()[2].model, "x");
  assert_str_eq(c.parts()[3].model, "z");
  assert_int_equal(c.parts()[4].first, 6);
}

static void the_same_input_cuts_the_same(void **) {
  PartCutter a(limits(4, 50, 0, true)), b(limits(4, 50, 0, true));
  for (uint64_t i = 0; i < 200; i++) {
    const std::string model = i % 3 ? "m1" : "m2";
    assert_int_equal(a.place(i, model, 7 + i % 11, 0), b.place(i, model, 7 + i % 11, 0));
  }
  assert_int_equal(a.parts().size(), b.parts().size());
}

static void tokens_are_rounded_up_per_request(void **) {
  assert_int_equal(obatch::estimated_tokens(1), 1);
  assert_int_equal(obatch::estimated_tokens(4), 1);
  assert_int_equal(obatch::estimated_tokens(5), 2);
  PartCutter c;
  c.place(0, "m", 5, 0);
  c.place(1, "m", 5, 0);
  assert_int_equal(c.parts()[0].tokens, 4);
}

static const struct CMUnitTest part_plan_tests[] = {
    cmocka_unit_test(no_limit_is_one_part),
    cmocka_unit_test(cut_at_the_request_limit),
    cmocka_unit_test(cut_before_the_byte_limit_is_crossed),
    cmocka_unit_test(cut_at_the_embedding_inputs_limit),
    cmocka_unit_test(one_model_makes_parts_per_model_in_first_request_order),
    cmocka_unit_test(the_same_input_cuts_the_same),
    cmocka_unit_test(tokens_are_rounded_up_per_request),
};

OBATCH_TEST_MAIN(part_plan_tests, nullptr, nullptr)
