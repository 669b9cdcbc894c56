// The queue's put / get / stats on a real SQLite file (no worker, no
// network): the checks a request meets, its ticket, a request stored once.
#include "queue/queue.hpp"

#include "core/config.hpp"
#include "unit_support.hpp"

using obatch::Config;
using obatch::Queue;

namespace {

const char kChat[] = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})";

Config openai() {
  Config c;
  c.set("provider", "openai");
  return c;
}

}  // namespace

static void put_returns_a_derived_ticket_and_stores_once(void **) {
  unit::TempDir dir;
  Queue q(openai(), dir.file("q.db"));
  const std::string t = q.put("", kChat, "");
  assert_str_eq(t.substr(0, 4), "obq_");
  assert_int_equal(t.size(), 36);
  // The same request, its keys in another order and spaced: the same ticket.
  const std::string again =
      q.put("", R"({ "messages": [{"content": "hi", "role": "user"}], "model": "gpt-4o-mini" })", "");
  assert_str_eq(again, t);
  assert_int_equal(q.stats().queued, 1);
  obatch::QueueEntry e = q.get(t);
  assert_str_eq(e.state, "queued");
  assert_str_eq(e.endpoint, "/v1/chat/completions");
  assert_str_eq(e.model, "gpt-4o-mini");
  assert_str_eq(e.provider, "openai");
  assert_int_equal(e.attempts, 0);
  assert_true(e.created_ms > 0);
  assert_false(e.ended());
}

static void the_ticket_depends_on_provider_endpoint_and_body(void **) {
  const std::string body = "{\"a\":1}";
  const std::string t = obatch::derived_ticket("openai", "/v1/chat/completions", body);
  assert_true(t != obatch::derived_ticket("parasail", "/v1/chat/completions", body));
  assert_true(t != obatch::derived_ticket("openai", "/v1/embeddings", body));
  assert_true(t != obatch::derived_ticket("openai", "/v1/chat/completions", "{\"a\":2}"));
  assert_str_eq(t, obatch::derived_ticket("openai", "/v1/chat/completions", body));
}

static void a_client_id_is_the_ticket_and_must_be_unique(void **) {
  unit::TempDir dir;
  Queue q(openai(), dir.file("q.db"));
  assert_str_eq(q.put("", kChat, "row-17"), "row-17");
  assert_str_eq(q.put("", kChat, "row-17"), "row-17");  // the same request again: fine
  EXPECT_ERROR(OBATCH_EDUPLICATE, "row-17",
               q.put("", R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]})",
                     "row-17"));
  assert_int_equal(q.stats().queued, 1);
}

static void bad_requests_are_refused_and_not_stored(void **) {
  unit::TempDir dir;
  Queue q(openai(), dir.file("q.db"));
  EXPECT_ERROR(OBATCH_EJSON, "request", q.put("", "{\"model\":", ""));
  EXPECT_ERROR(OBATCH_EREQUEST, "model", q.put("", R"({"messages":[{"role":"user","content":"x"}]})", ""));
  EXPECT_ERROR(OBATCH_EREQUEST, "messages",
               q.put("", R"({"model":"gpt-4o-mini","messages":"hi"})", ""));
  EXPECT_ERROR(OBATCH_EREQUEST, "stream",
               q.put("", R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]})", ""));
  // The same custom_id rules as obatch_add.
  EXPECT_ERROR(OBATCH_EREQUEST, "custom_id", q.put("", kChat, std::string(600, 'x')));
  assert_int_equal(q.stats().queued, 0);
}

static void an_unknown_ticket_is_enotfound(void **) {
  unit::TempDir dir;
  Queue q(openai(), dir.file("q.db"));
  EXPECT_ERROR(OBATCH_ENOTFOUND, "obq_nosuch", q.get("obq_nosuch"));
  obatch::QueueEntry e;
  EXPECT_ERROR(OBATCH_ENOTFOUND, "obq_nosuch", q.wait("obq_nosuch", 10, &e));
}

static void wait_returns_false_when_the_time_is_up(void **) {
  unit::TempDir dir;
  Queue q(openai(), dir.file("q.db"));
  const std::string t = q.put("", kChat, "");
  obatch::QueueEntry e;
  assert_false(q.wait(t, 150, &e));
  assert_str_eq(e.state, "queued");
}

static void two_handles_share_one_file(void **) {
  unit::TempDir dir;
  Queue a(openai(), dir.file("q.db"));
  Queue b(openai(), dir.file("q.db"));
  const std::string t = a.put("", kChat, "");
  assert_str_eq(b.get(t).ticket, t);
  assert_int_equal(b.stats().queued, 1);
}

static void bad_queue_settings_are_econfig(void **) {
  unit::TempDir dir;
  Config c = openai();
  EXPECT_ERROR(OBATCH_ECONFIG, "flush_age", c.set("flush_age", "soon"));
  EXPECT_ERROR(OBATCH_ECONFIG, "flush_requests", c.set("flush_requests", "0"));
  c.set("lease", "10ms");
  EXPECT_ERROR(OBATCH_ECONFIG, "lease", Queue(c, dir.file("q.db")));
}

// A PostgreSQL store has no journal beside it: with OBATCH_STATE "off" and
// no state in the config there is none at all, and the message says so
// (not "no HOME": HOME is set), before anything connects to the server.
static void a_postgres_store_without_a_journal_names_obatch_state(void **) {
  const char *saved = getenv("OBATCH_STATE");
  const std::string keep = saved ? saved : "";
  setenv("OBATCH_STATE", "off", 1);
  const char *store = "postgresql://obatch@127.0.0.1:1/nowhere";  // never reached
  EXPECT_ERROR(OBATCH_ECONFIG, "OBATCH_STATE is \"off\"", Queue(openai(), store));
  unit::TempDir dir;
  Config c = openai();
  c.set("state", dir.file("jobs.db").c_str());
  bool connected = true;
  try {
    Queue q(c, store);
  } catch (const obatch::Error &e) {
    connected = false;
    assert_int_not_equal(e.code(), OBATCH_ECONFIG);  // a journal: then the server is asked
  }
  assert_false(connected);
  if (saved)
    setenv("OBATCH_STATE", keep.c_str(), 1);
  else
    unsetenv("OBATCH_STATE");
}

static const struct CMUnitTest queue_tests[] = {
    cmocka_unit_test(put_returns_a_derived_ticket_and_stores_once),
    cmocka_unit_test(the_ticket_depends_on_provider_endpoint_and_body),
    cmocka_unit_test(a_client_id_is_the_ticket_and_must_be_unique),
    cmocka_unit_test(bad_requests_are_refused_and_not_stored),
    cmocka_unit_test(an_unknown_ticket_is_enotfound),
    cmocka_unit_test(wait_returns_false_when_the_time_is_up),
    cmocka_unit_test(two_handles_share_one_file),
    cmocka_unit_test(bad_queue_settings_are_econfig),
    cmocka_unit_test(a_postgres_store_without_a_journal_names_obatch_state),
};

OBATCH_TEST_MAIN(queue_tests, nullptr, nullptr)
