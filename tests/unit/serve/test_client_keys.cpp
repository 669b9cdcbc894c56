// obatch serve's client keys: only a key's SHA-256 is written down, a key
// finds its client and nothing else does, and a keys file that is not
// "NAME SHA256-HEX" lines is refused with its line number.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "serve/client_keys.hpp"
#include "test_main.h"

using obatch::serve::ClientKeys;

static std::vector<std::string> made_dirs;

static int remove_made_dirs(void **) {
  for (const std::string &d : made_dirs) std::filesystem::remove_all(d);
  return 0;
}

static std::string temp_path(const char *name) {
  char dir[] = "/tmp/obatch-keys-XXXXXX";
  if (!mkdtemp(dir)) fail_msg("mkdtemp failed");
  made_dirs.push_back(dir);
  return std::string(dir) + "/" + name;
}

static std::string read_all(const std::string &path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

static void added_keys_are_stored_as_hashes(void **) {
  const std::string path = temp_path("clients");
  const std::string alice = ClientKeys::add(path, "alice");
  const std::string bob = ClientKeys::add(path, "bob");
  assert_true(alice.rfind("obk_", 0) == 0 && alice.size() == 4 + 48);
  assert_true(alice != bob);
  const std::string text = read_all(path);
  assert_true(text == "alice " + obatch::serve::sha256_hex(alice) + "\nbob " +
                          obatch::serve::sha256_hex(bob) + "\n");
  assert_true(text.find(alice) == std::string::npos);
  struct stat st {};
  assert_int_equal(stat(path.c_str(), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);

  ClientKeys keys(path);
  assert_false(keys.empty());
  assert_true(keys.client_for(alice) == std::optional<std::string>("alice"));
  assert_true(keys.client_for(bob) == std::optional<std::string>("bob"));
  assert_false(keys.client_for("").has_value());
  assert_false(keys.client_for(alice + "x").has_value());
  assert_false(keys.client_for(obatch::serve::sha256_hex(alice)).has_value());  // the hash itself
}

static void without_keys_everyone_is_the_anonymous_client(void **) {
  ClientKeys none;
  assert_true(none.empty());
  assert_true(none.client_for("") == std::optional<std::string>(""));
  assert_true(none.client_for("anything") == std::optional<std::string>(""));
}

static void the_internal_key_is_its_own_client(void **) {
  ClientKeys none;
  none.add_internal("_deferred", "obk_internal");
  assert_true(none.client_for("obk_internal") == std::optional<std::string>("_deferred"));
  assert_true(none.client_for("other") == std::optional<std::string>(""));
  const std::string path = temp_path("clients");
  const std::string alice = ClientKeys::add(path, "alice");
  ClientKeys keys(path);
  keys.add_internal("_deferred", "obk_internal");
  assert_true(keys.client_for("obk_internal") == std::optional<std::string>("_deferred"));
  assert_true(keys.client_for(alice) == std::optional<std::string>("alice"));
  assert_false(keys.client_for("obk_internalx").has_value());
  assert_false(keys.client_for("").has_value());
}

static void bad_files_are_refused_with_the_line(void **) {
  const std::string hash(64, 'a');
  const char *bad[] = {"alice\n",               // no hash
                       "alice obk_plainkey\n",  // a key, not a hash
                       "alice AAAAAAAA\n",      // not 64 hex
                       "# ok\nal/ice HASH\n",   // a bad name
                       "alice HASH extra\n"};   // three words
  for (const char *text : bad) {
    const std::string path = temp_path("clients");
    std::string content = text;
    const size_t at = content.find("HASH");
    if (at != std::string::npos) content.replace(at, 4, hash);
    std::ofstream(path) << content;
    bool refused = false;
    try {
      ClientKeys keys(path);
    } catch (const std::runtime_error &e) {
      refused = std::string(e.what()).find("line") != std::string::npos;
    }
    if (!refused) fail_msg("not refused with its line: %s", text);
  }
  const std::string empty = temp_path("clients");
  std::ofstream(empty) << "# nobody yet\n\n";
  bool refused = false;
  try {
    ClientKeys keys(empty);
  } catch (const std::runtime_error &) {
    refused = true;
  }
  assert_true(refused);
  bool bad_name = false;
  try {
    ClientKeys::add(temp_path("clients"), "no spaces allowed");
  } catch (const std::runtime_error &) {
    bad_name = true;
  }
  assert_true(bad_name);
}

static const struct CMUnitTest client_keys_tests[] = {
    cmocka_unit_test(added_keys_are_stored_as_hashes),
    cmocka_unit_test(without_keys_everyone_is_the_anonymous_client),
    cmocka_unit_test(the_internal_key_is_its_own_client),
    cmocka_unit_test(bad_files_are_refused_with_the_line),
};

OBATCH_TEST_MAIN(client_keys_tests, nullptr, remove_made_dirs)
