// Helpers shared by the unit tests: checking obatch::Error codes and
// messages, comparing std::strings, and temp files.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <typeinfo>

#include "obatch/obatch.h"
#include "test_main.h"
#include "util/error.hpp"
#include "util/files.hpp"

namespace unit {

inline bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

inline void check_contains(const std::string &text, const std::string &part, const char *file,
                           int line) {
  if (contains(text, part)) return;
  print_error("\"%s\" does not contain \"%s\"\n", text.c_str(), part.c_str());
  _fail(file, line);
}

inline void check_str_eq(const std::string &got, const std::string &want, const char *file,
                         int line) {
  if (got == want) return;
  print_error("got      \"%s\"\nexpected \"%s\"\n", got.c_str(), want.c_str());
  _fail(file, line);
}

// Runs `fn`, which must throw obatch::Error with `code` and a message that
// contains `part`. Failures are reported outside the catch blocks, since
// cmocka leaves a test by longjmp.
template <typename Fn>
std::string check_error(int code, const std::string &part, Fn fn, const char *file, int line) {
  std::string message, problem;
  try {
    fn();
    problem = "no error thrown; expected code " + std::to_string(code);
  } catch (const obatch::Error &e) {
    message = e.what();
    if (e.code() != code)
      problem = "error code " + std::to_string(e.code()) + ", expected " + std::to_string(code) +
                " (message: " + message + ")";
  } catch (const std::exception &e) {
    problem = std::string("threw a ") + typeid(e).name() + ", not obatch::Error: " + e.what();
  }
  if (!problem.empty()) {
    print_error("%s\n", problem.c_str());
    _fail(file, line);
  }
  check_contains(message, part, file, line);
  return message;
}

// Runs `fn`; fails the test (with the message) if it throws.
template <typename Fn>
void check_no_error(Fn fn, const char *file, int line) {
  std::string problem;
  try {
    fn();
  } catch (const std::exception &e) {
    problem = e.what();
  }
  if (problem.empty()) return;
  print_error("unexpected error: %s\n", problem.c_str());
  _fail(file, line);
}

inline std::string read_all(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_all(const std::string &path, const std::string &data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

// A private directory removed with everything in it at the end of scope.
class TempDir {
 public:
  TempDir() : path_(obatch::make_private_dir("obatch-unit")) {}
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace unit

// EXPECT_ERROR(code, "part", statements...): the statements throw
// obatch::Error(code) whose message contains "part". Yields the message, for
// further checks.
#define EXPECT_ERROR(code, part, ...) \
  unit::check_error((code), (part), [&]() { __VA_ARGS__; }, __FILE__, __LINE__)
#define EXPECT_NO_ERROR(...) unit::check_no_error([&]() { __VA_ARGS__; }, __FILE__, __LINE__)
#define assert_contains(text, part) unit::check_contains((text), (part), __FILE__, __LINE__)
#define assert_str_eq(got, want) unit::check_str_eq((got), (want), __FILE__, __LINE__)
