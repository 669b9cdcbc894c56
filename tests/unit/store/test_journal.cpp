// The job journal: claims by input key, followers, take-over after a
// holder died, updates, lookups, pruning, file mode and the path rules.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "core/config.hpp"
#include "store/journal.hpp"
#include "store/owner.hpp"
#include "unit_support.hpp"

using obatch::Journal;
using obatch::JobRecord;

namespace {

JobRecord fresh(const std::string &id, const std::string &digest = "d1") {
  JobRecord r;
  r.id = id;
  r.digest = digest;
  r.provider = "openai";
  r.base_url = "https://api.openai.com/v1";
  r.endpoint = "/v1/chat/completions";
  r.requests = 3;
  r.input_bytes = 100;
  return r;
}

// Marks `id` as held by a process that has exited.
void hold_by_dead_process(const std::string &db, const std::string &id) {
  pid_t pid = fork();
  if (pid == 0) {
    Journal j(db);
    JobRecord r;
    j.take_over(id, &r);
    _exit(0);  // dies holding it
  }
  int status = 0;
  waitpid(pid, &status, 0);
}

}  // namespace

static void new_input_is_inserted_and_held(void **) {
  unit::TempDir tmp;
  Journal j(tmp.file("state/obatch/jobs.db"));
  JobRecord out;
  assert_true(j.claim(fresh("aaaa1111"), false, "", &out) == Journal::Claim::kNew);
  assert_str_eq(out.id, "aaaa1111");
  assert_str_eq(out.step, "new");
  assert_true(out.running);
  struct stat st;
  assert_int_equal(stat(tmp.file("state/obatch/jobs.db").c_str(), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(stat(tmp.file("state/obatch").c_str(), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
}

static void same_input_held_by_live_process_is_followed(void **) {
  unit::TempDir tmp;
  Journal j(tmp.file("jobs.db"));
  JobRecord out;
  j.claim(fresh("aaaa1111"), false, "", &out);
  // This process still holds it: a second submission follows.
  assert_true(j.claim(fresh("bbbb2222"), false, "", &out) == Journal::Claim::kFollow);
  assert_str_eq(out.id, "aaaa1111");
  assert_int_equal(j.list().size(), 1);
}

static void same_input_released_is_resumed_with_its_steps(void **) {
  unit::TempDir tmp;
  Journal j(tmp.file("jobs.db"));
  JobRecord out;
  j.claim(fresh("aaaa1111"), false, "", &out);
  j.update("aaaa1111", {{"step", obatch::step::kCreated}, {"batch_id", "batch_1"},
                        {"input_file_id", "file-1"}});
  j.release("aaaa1111");
  assert_true(j.claim(fresh("bbbb2222"), false, "", &out) == Journal::Claim::kResumed);
  assert_str_eq(out.id, "aaaa1111");
  assert_str_eq(out.batch_id, "batch_1");
  assert_str_eq(out.input_file_id, "file-1");
  assert_str_eq(out.step, "created");
  assert_int_equal(out.owner_pid, getpid());
}

static void holder_that_died_is_taken_over(void **) {
  unit::TempDir tmp;
  const std::string db = tmp.file("jobs.db");
  Journal j(db);
  JobRecord out;
  j.claim(fresh("aaaa1111"), false, "", &out);
  j.release("aaaa1111");
  hold_by_dead_process(db, "aaaa1111");
  assert_true(j.find("aaaa1111", &out));
  assert_false(out.running);
  assert_true(out.owner_pid != 0);
  assert_true(j.claim(fresh("bbbb2222"), false, "", &out) == Journal::Claim::kResumed);
  assert_true(j.take_over("aaaa1111", &out));  // already ours: still fine
}

static void take_over_refuses_a_live_holder(void **) {
  unit::TempDir tmp;
  const std::string db = tmp.file("jobs.db");
  Journal j(db);
  JobRecord out;
  j.claim(fresh("aaaa1111"), false, "", &out);
  int to_child[2], from_child[2];
  assert_int_equal(pipe(to_child), 0);
  assert_int_equal(pipe(from_child), 0);
  pid_t pid = fork();
  if (pid == 0) {
    Journal c(db);
    JobRecord r;
    c.release("aaaa1111");  // not its job: no effect
    bool took = c.take_over("aaaa1111", &r);
    char answer = took ? 'y' : 'n';
    (void)!write(from_child[1], &answer, 1);
    char wait_byte;
    (void)!read(to_child[0], &wait_byte, 1);
    _exit(0);
  }
  char answer = 0;
  assert_int_equal(read(from_child[0], &answer, 1), 1);
  assert_int_equal(answer, 'n');  // this (live) process holds it
  j.release("aaaa1111");
  // Now let a child take it and stay alive: this process must follow.
  pid_t pid2 = fork();
  if (pid2 == 0) {
    Journal c(db);
    JobRecord r;
    char a2 = c.take_over("aaaa1111", &r) ? 'y' : 'n';
    (void)!write(from_child[1], &a2, 1);
    char wait_byte;
    (void)!read(to_child[0], &wait_byte, 1);
    _exit(0);
  }
  assert_int_equal(read(from_child[0], &answer, 1), 1);
  assert_int_equal(answer, 'y');
  assert_false(j.take_over("aaaa1111", &out));
  assert_true(j.claim(fresh("cccc3333"), false, "", &out) == Journal::Claim::kFollow);
  assert_true(out.running);
  char go[2] = {'x', 'x'};
  assert_int_equal(write(to_child[1], go, 2), 2);
  int status = 0;
  waitpid(pid, &status, 0);
  waitpid(pid2, &status, 0);
  assert_true(j.take_over("aaaa1111", &out));
}

static void final_jobs_and_force_new_make_a_new_job(void **) {
  unit::TempDir tmp;
  Journal j(tmp.file("jobs.db"));
  JobRecord out;
  j.claim(fresh("aaaa1111"), false, "", &out);
  j.update("aaaa1111", {{"step", obatch::step::kFailed}});
  j.release("aaaa1111");
  assert_true(j.claim(fresh("bbbb2222"), false, "", &out) == Journal::Claim::kNew);
  assert_str_eq(out.id, "bbbb2222");
  j.release("bbbb2222");
  assert_true(j.claim(fresh("cccc3333"), true, "", &out) == Journal::Claim::kNew);
  // Another digest, provider or URL is another input.
  j.release("cccc3333");
  JobRecord other = fresh("dddd4444");
  other.base_url = "http://127.0.0.1:9/v1";
  assert_true(j.claim(other, false, "", &out) == Journal::Claim::kNew);
  assert_int_equal(j.list().size(), 4);
  assert_str_eq(j.list().front().id, "dddd4444");  // newest first
  // The id asked for is taken (by the failed job): the fallback id is used.
  j.release("dddd4444");
  assert_true(j.claim(fresh("aaaa1111"), true, "eeee5555", &out) == Journal::Claim::kNew);
  assert_str_eq(out.id, "eeee5555");
  assert_int_equal(j.list().size(), 5);
}

static void done_jobs_are_resumed_not_paid_again(void **) {
  unit::TempDir tmp;
  Journal j(tmp.file("jobs.db"));
  JobRecord out;
  j.claim(fresh("aaaa1111"), false, "", &out);
  j.update("aaaa1111", {{"step", obatch::step::kDone}, {"batch_id", "batch_1"}});
  j.release("aaaa1111");
  assert_true(j.claim(fresh("bbbb2222"), false, "", &out) == Journal::Claim::kResumed);
  assert_str_eq(out.batch_id, "batch_1");
}

static void find_by_id_prefix_or_batch(void **) {
  unit::TempDir tmp;
  Journal j(tmp.file("jobs.db"));
  JobRecord out;
  j.claim(fresh("aaaa1111", "d1"), false, "", &out);
  j.claim(fresh("aaaa2222", "d2"), false, "", &out);
  j.update("aaaa2222", {{"batch_id", "batch_x"}});
  assert_true(j.find("aaaa1111", &out));
  assert_str_eq(out.id, "aaaa1111");
  assert_true(j.find("batch_x", &out));
  assert_str_eq(out.id, "aaaa2222");
  assert_true(j.find("aaaa2", &out));
  assert_str_eq(out.id, "aaaa2222");
  EXPECT_ERROR(OBATCH_EINVAL, "ambiguous", j.find("aaaa", &out));
  assert_false(j.find("zzzz", &out));
  assert_false(j.find("", &out));
}

static void update_refuses_unknown_columns(void **) {
  unit::TempDir tmp;
  Journal j(tmp.file("jobs.db"));
  JobRecord out;
  j.claim(fresh("aaaa1111"), false, "", &out);
  EXPECT_ERROR(OBATCH_EINTERNAL, "not updatable", j.update("aaaa1111", {{"digest", "x"}}));
  j.update("aaaa1111", {{"error", "it's \"quoted\"; DROP TABLE jobs"}});
  assert_true(j.find("aaaa1111", &out));
  assert_str_eq(out.error, "it's \"quoted\"; DROP TABLE jobs");
}

static void prune_forgets_ended_jobs_only(void **) {
  unit::TempDir tmp;
  Journal j(tmp.file("jobs.db"));
  JobRecord out;
  j.claim(fresh("aaaa1111", "d1"), false, "", &out);
  j.claim(fresh("bbbb2222", "d2"), false, "", &out);
  j.claim(fresh("cccc3333", "d3"), false, "", &out);
  j.update("aaaa1111", {{"step", obatch::step::kDone}});
  j.update("bbbb2222", {{"step", obatch::step::kAbandoned}});
  j.release("aaaa1111");
  // bbbb2222 is still held by this live process: kept.
  assert_int_equal(j.prune(), 1);
  assert_false(j.find("aaaa1111", &out));
  assert_true(j.find("bbbb2222", &out));
  assert_true(j.find("cccc3333", &out));
}

// A job of several batches: its parts, written once, updated one by one,
// counted on the job's row, listed in order, and pruned with it.
static void parts_of_a_job(void **) {
  unit::TempDir tmp;
  Journal j(tmp.file("jobs.db"));
  JobRecord job;
  j.claim(fresh("aaaa1111"), false, "", &job);
  std::vector<obatch::PartRecord> parts(3);
  for (uint32_t i = 0; i < 3; i++) {
    parts[i].job_id = job.id;
    parts[i].index = i;
    parts[i].model = "m";
    parts[i].requests = 10 + i;
    parts[i].input_bytes = 100 * (i + 1);
    parts[i].tokens = 25 * (i + 1);
  }
  j.add_parts(parts);
  j.add_parts(parts);  // again: nothing changes (a rerun adds none twice)
  j.update_part(job.id, 1, {{"step", "created"}, {"batch_id", "batch_b"}, {"attempt", "2"}});
  auto got = j.parts(job.id);
  assert_int_equal(got.size(), 3);
  assert_str_eq(got[0].step, "new");
  assert_str_eq(got[1].step, "created");
  assert_str_eq(got[1].batch_id, "batch_b");
  assert_int_equal(got[1].attempt, 2);
  assert_int_equal(got[2].requests, 12);
  assert_int_equal(got[2].tokens, 75);
  JobRecord r;
  assert_true(j.find(job.id, &r));
  assert_int_equal(r.parts, 3);
  // A part's batch id finds its job.
  assert_true(j.find("batch_b", &r));
  assert_str_eq(r.id, job.id);
  EXPECT_ERROR(OBATCH_EINTERNAL, "not updatable", j.update_part(job.id, 0, {{"requests", "1"}}));
  assert_int_equal(j.parts("nosuchjob").size(), 0);
  j.update(job.id, {{"step", "done"}});
  j.release(job.id);
  assert_int_equal(j.prune(), 1);
  assert_int_equal(j.parts(job.id).size(), 0);
}

// A journal of schema 1 (before parts) opens as it is and gains the table.
static void schema_1_journal_is_upgraded(void **) {
  unit::TempDir tmp;
  {
    Journal j(tmp.file("jobs.db"));
    JobRecord out;
    j.claim(fresh("aaaa1111"), false, "", &out);
  }
  int rc = std::system(("sqlite3 " + tmp.file("jobs.db") +
                        " 'DROP TABLE parts; PRAGMA user_version=1' 2>/dev/null")
                           .c_str());
  if (rc != 0) skip();  // the sqlite3 command is not installed
  Journal j(tmp.file("jobs.db"));
  JobRecord r;
  assert_true(j.find("aaaa1111", &r));
  assert_int_equal(r.parts, 0);
  assert_int_equal(j.parts("aaaa1111").size(), 0);
}

// A journal of schema 3 (before id_map) gains the column; the map is kept.
static void schema_3_journal_gains_the_id_map(void **) {
  unit::TempDir tmp;
  {
    Journal j(tmp.file("jobs.db"));
    JobRecord out;
    j.claim(fresh("aaaa1111"), false, "", &out);
  }
  int rc = std::system(("sqlite3 " + tmp.file("jobs.db") +
                        " 'ALTER TABLE jobs DROP COLUMN id_map; PRAGMA user_version=3' 2>/dev/null")
                           .c_str());
  if (rc != 0) skip();  // the sqlite3 command is not installed (or too old)
  Journal j(tmp.file("jobs.db"));
  JobRecord r;
  assert_true(j.find("aaaa1111", &r));
  assert_str_eq(r.id_map, "");
  j.update("aaaa1111", {{"id_map", "{\"a b\":\"obm-0123456789abcdef\"}"}});
  assert_true(j.find("aaaa1111", &r));
  assert_str_eq(r.id_map, "{\"a b\":\"obm-0123456789abcdef\"}");
}

static void newer_schema_is_refused(void **) {
  unit::TempDir tmp;
  { Journal j(tmp.file("jobs.db")); }
  int rc = std::system(("sqlite3 " + tmp.file("jobs.db") + " 'PRAGMA user_version=99' 2>/dev/null").c_str());
  if (rc != 0) skip();  // the sqlite3 command is not installed
  EXPECT_ERROR(OBATCH_EIO, "newer obatch", Journal j(tmp.file("jobs.db")));
}

static void unwritable_place_is_a_clear_error(void **) {
  unit::TempDir tmp;
  unit::write_all(tmp.file("file"), "x");
  EXPECT_ERROR(OBATCH_EIO, "not a directory", Journal j(tmp.file("file/jobs.db")));
}

static void path_rules(void **) {
  const char *names[] = {"OBATCH_STATE", "XDG_STATE_HOME", "HOME"};
  std::string saved[3];
  bool had[3];
  for (int i = 0; i < 3; i++) {
    const char *v = getenv(names[i]);
    had[i] = v != nullptr;
    saved[i] = v ? v : "";
    unsetenv(names[i]);
  }
  obatch::Config c;
  assert_str_eq(obatch::journal_path(c), "");
  setenv("HOME", "/home/u", 1);
  assert_str_eq(obatch::journal_path(c), "/home/u/.local/state/obatch/jobs.db");
  setenv("XDG_STATE_HOME", "relative/ignored", 1);
  assert_str_eq(obatch::journal_path(c), "/home/u/.local/state/obatch/jobs.db");
  setenv("XDG_STATE_HOME", "/x/state", 1);
  assert_str_eq(obatch::journal_path(c), "/x/state/obatch/jobs.db");
  setenv("OBATCH_STATE", "/y/j.db", 1);
  assert_str_eq(obatch::journal_path(c), "/y/j.db");
  setenv("OBATCH_STATE", "off", 1);
  assert_str_eq(obatch::journal_path(c), "");
  c.set("state", "/z/k.db");
  assert_str_eq(obatch::journal_path(c), "/z/k.db");
  c.set("state", "off");
  assert_str_eq(obatch::journal_path(c), "");
  for (int i = 0; i < 3; i++) {
    if (had[i])
      setenv(names[i], saved[i].c_str(), 1);
    else
      unsetenv(names[i]);
  }
}

static const struct CMUnitTest journal_tests[] = {
    cmocka_unit_test(new_input_is_inserted_and_held),
    cmocka_unit_test(same_input_held_by_live_process_is_followed),
    cmocka_unit_test(same_input_released_is_resumed_with_its_steps),
    cmocka_unit_test(holder_that_died_is_taken_over),
    cmocka_unit_test(take_over_refuses_a_live_holder),
    cmocka_unit_test(final_jobs_and_force_new_make_a_new_job),
    cmocka_unit_test(done_jobs_are_resumed_not_paid_again),
    cmocka_unit_test(find_by_id_prefix_or_batch),
    cmocka_unit_test(update_refuses_unknown_columns),
    cmocka_unit_test(prune_forgets_ended_jobs_only),
    cmocka_unit_test(parts_of_a_job),
    cmocka_unit_test(schema_1_journal_is_upgraded),
    cmocka_unit_test(schema_3_journal_gains_the_id_map),
    cmocka_unit_test(newer_schema_is_refused),
    cmocka_unit_test(unwritable_place_is_a_clear_error),
    cmocka_unit_test(path_rules),
};

OBATCH_TEST_MAIN(journal_tests, nullptr, nullptr)
