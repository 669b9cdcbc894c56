// Which process holds a job: this one is alive, an exited child is not, and
// a pid with another start time is a different process.
#include <sys/wait.h>
#include <unistd.h>

#include "store/owner.hpp"
#include "unit_support.hpp"

static void this_process_is_alive(void **) {
  obatch::ProcessId me = obatch::this_process();
  assert_int_equal(me.pid, getpid());
  assert_false(me.start.empty());
  assert_true(obatch::process_alive(me));
}

static void exited_child_is_not_alive(void **) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  assert_false(obatch::process_alive({pid, "1"}));
  assert_false(obatch::process_alive({0, ""}));
}

static void reused_pid_is_another_process(void **) {
  obatch::ProcessId me = obatch::this_process();
  assert_false(obatch::process_alive({me.pid, me.start + "0"}));
}

static const struct CMUnitTest owner_tests[] = {
    cmocka_unit_test(this_process_is_alive),
    cmocka_unit_test(exited_child_is_not_alive),
    cmocka_unit_test(reused_pid_is_another_process),
};

OBATCH_TEST_MAIN(owner_tests, nullptr, nullptr)
