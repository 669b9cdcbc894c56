// The abort token: every registered waker runs on trigger, a late watch is
// woken at once, and a watch that is gone is never called.
#include <atomic>
#include <thread>
#include <vector>

#include "unit_support.hpp"
#include "util/abort_token.hpp"

using obatch::AbortToken;

static void trigger_wakes_every_watch(void **) {
  auto token = std::make_shared<AbortToken>();
  int a = 0, b = 0;
  AbortToken::Watch wa(token, [&] { ++a; });
  AbortToken::Watch wb(token, [&] { ++b; });
  assert_false(token->triggered());
  token->trigger();
  assert_true(token->triggered());
  assert_int_equal(a, 1);
  assert_int_equal(b, 1);
}

static void a_watch_after_the_trigger_wakes_at_once(void **) {
  auto token = std::make_shared<AbortToken>();
  token->trigger();
  int woken = 0;
  AbortToken::Watch w(token, [&] { ++woken; });
  assert_int_equal(woken, 1);
}

static void a_released_watch_is_not_called(void **) {
  auto token = std::make_shared<AbortToken>();
  int woken = 0;
  {
    AbortToken::Watch w(token, [&] { ++woken; });
    AbortToken::Watch moved = std::move(w);  // the move keeps one registration
  }
  token->trigger();
  assert_int_equal(woken, 0);
}

static void reset_lets_calls_run_again(void **) {
  auto token = std::make_shared<AbortToken>();
  token->trigger();
  bool threw = false;
  try {
    obatch::throw_if_aborted(token, "list");
  } catch (const obatch::Error &e) {
    threw = true;
    assert_int_equal(e.code(), OBATCH_EABORTED);
    assert_string_equal(e.what(), "list: aborted");
  }
  assert_true(threw);
  token->reset();
  obatch::throw_if_aborted(token, "list");  // does not throw
  obatch::throw_if_aborted(nullptr, "list");
}

// Watches come and go on other threads while the token is triggered again
// and again: no waker runs after its watch is gone (ASan would see it).
static void triggers_race_with_watches(void **) {
  auto token = std::make_shared<AbortToken>();
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      while (!stop) {
        auto flag = std::make_unique<std::atomic<int>>(0);
        AbortToken::Watch w(token, [f = flag.get()] { f->fetch_add(1); });
        std::this_thread::yield();
      }
    });
  for (int i = 0; i < 2000; ++i) {
    token->trigger();
    token->reset();
  }
  stop = true;
  for (auto &t : threads) t.join();
}

static const struct CMUnitTest abort_token_tests[] = {
    cmocka_unit_test(trigger_wakes_every_watch),
    cmocka_unit_test(a_watch_after_the_trigger_wakes_at_once),
    cmocka_unit_test(a_released_watch_is_not_called),
    cmocka_unit_test(reset_lets_calls_run_again),
    cmocka_unit_test(triggers_race_with_watches),
};

OBATCH_TEST_MAIN(abort_token_tests, nullptr, nullptr)
