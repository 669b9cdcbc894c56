// Filesystem helpers: private dirs, atomic publish, names and paths.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "unit_support.hpp"

static void make_private_dir_is_0700_under_tmpdir(void **) {
  unit::TempDir base;
  const char *old = std::getenv("TMPDIR");
  std::string saved = old ? old : "";
  setenv("TMPDIR", base.path().c_str(), 1);
  std::string dir = obatch::make_private_dir("obatch-x");
  if (old)
    setenv("TMPDIR", saved.c_str(), 1);
  else
    unsetenv("TMPDIR");
  assert_int_equal(dir.rfind(base.path() + "/obatch-x-", 0), 0);
  struct stat st;
  assert_int_equal(stat(dir.c_str(), &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0700);
}

static void ensure_dir_creates_parents(void **) {
  unit::TempDir tmp;
  std::string deep = tmp.file("a/b/c");
  obatch::ensure_dir(deep);
  struct stat st;
  assert_int_equal(stat(deep.c_str(), &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  obatch::ensure_dir(deep);  // already there: fine
}

static void ensure_dir_on_a_file_fails(void **) {
  unit::TempDir tmp;
  unit::write_all(tmp.file("f"), "x");
  EXPECT_ERROR(OBATCH_EIO, "is not a directory", obatch::ensure_dir(tmp.file("f")));
}

static void publish_file_renames_complete_file(void **) {
  unit::TempDir tmp;
  std::string final_path = tmp.file("out.jsonl");
  int fd = -1;
  std::string temp = obatch::make_temp_beside(final_path, &fd);
  assert_true(fd >= 0);
  assert_int_equal(temp.rfind(final_path + ".part-", 0), 0);
  assert_int_equal(write(fd, "abc\n", 4), 4);
  obatch::publish_file(fd, temp, final_path);
  assert_str_eq(unit::read_all(final_path), "abc\n");
  assert_int_equal(access(temp.c_str(), F_OK), -1);  // the temp name is gone
  struct stat st;
  assert_int_equal(stat(final_path.c_str(), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0644);
}

static void file_size_and_missing_file(void **) {
  unit::TempDir tmp;
  unit::write_all(tmp.file("f"), "12345");
  assert_int_equal(obatch::file_size(tmp.file("f")), 5);
  EXPECT_ERROR(OBATCH_EIO, "nope", obatch::file_size(tmp.file("nope")));
}

static void random_hex_has_length_and_varies(void **) {
  std::string a = obatch::random_hex(16), b = obatch::random_hex(16);
  assert_int_equal(a.size(), 32);
  assert_true(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  assert_true(a != b);
  assert_str_eq(obatch::random_hex(0), "");
}

static void dir_of_and_path_join(void **) {
  assert_str_eq(obatch::dir_of("/a/b/c.jsonl"), "/a/b");
  assert_str_eq(obatch::dir_of("c.jsonl"), ".");
  assert_str_eq(obatch::dir_of("/c.jsonl"), "/");
  assert_str_eq(obatch::path_join("/a", "b"), "/a/b");
  assert_str_eq(obatch::path_join("/a/", "b"), "/a/b");
  assert_str_eq(obatch::path_join("", "b"), "b");
}

static void real_path_resolves_links_or_is_empty(void **) {
  unit::TempDir tmp;
  unit::write_all(tmp.file("target"), "x");
  assert_int_equal(symlink(tmp.file("target").c_str(), tmp.file("link").c_str()), 0);
  const std::string real = obatch::real_path(tmp.file("target"));
  assert_true(!real.empty() && real[0] == '/');
  assert_str_eq(obatch::real_path(tmp.file("link")), real);
  assert_str_eq(obatch::real_path(tmp.file("missing")), "");
}

static void temp_files_of_dead_writers_are_removed(void **) {
  unit::TempDir tmp;
  const std::string final_path = tmp.file("out.jsonl");
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);  // a pid that no process has now
  const std::string dead = final_path + ".part-" + std::to_string(pid) + "-abcdef";
  const std::string live = final_path + ".part-" + std::to_string(getpid()) + "-abcdef";
  const std::string other = tmp.file("other.jsonl.part-" + std::to_string(pid) + "-abcdef");
  unit::write_all(dead, "half");
  unit::write_all(live, "half");
  unit::write_all(other, "half");
  int fd = -1;
  std::string temp = obatch::make_temp_beside(final_path, &fd);
  close(fd);
  assert_int_equal(temp.rfind(final_path + ".part-" + std::to_string(getpid()) + "-", 0), 0);
  assert_int_equal(access(dead.c_str(), F_OK), -1);
  assert_int_equal(access(live.c_str(), F_OK), 0);
  assert_int_equal(access(other.c_str(), F_OK), 0);
}

static const struct CMUnitTest files_tests[] = {
    cmocka_unit_test(temp_files_of_dead_writers_are_removed),
    cmocka_unit_test(make_private_dir_is_0700_under_tmpdir),
    cmocka_unit_test(ensure_dir_creates_parents),
    cmocka_unit_test(ensure_dir_on_a_file_fails),
    cmocka_unit_test(publish_file_renames_complete_file),
    cmocka_unit_test(file_size_and_missing_file),
    cmocka_unit_test(random_hex_has_length_and_varies),
    cmocka_unit_test(dir_of_and_path_join),
    cmocka_unit_test(real_path_resolves_links_or_is_empty),
};

OBATCH_TEST_MAIN(files_tests, nullptr, nullptr)
