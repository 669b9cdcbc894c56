// SHA-256 of a file: known vectors, and a clear error for a missing file.
#include "unit_support.hpp"
#include "util/sha256.hpp"

static void known_digests(void **) {
  unit::TempDir tmp;
  unit::write_all(tmp.file("empty"), "");
  unit::write_all(tmp.file("abc"), "abc");
  assert_str_eq(obatch::sha256_file_hex(tmp.file("empty")),
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert_str_eq(obatch::sha256_file_hex(tmp.file("abc")),
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Larger than the read buffer.
  std::string big(3 << 20, 'a');
  unit::write_all(tmp.file("big"), big);
  assert_int_equal(obatch::sha256_file_hex(tmp.file("big")).size(), 64);
}

static void missing_file_is_an_io_error(void **) {
  EXPECT_ERROR(OBATCH_EIO, "cannot read /nonexistent/x", obatch::sha256_file_hex("/nonexistent/x"));
}

static const struct CMUnitTest sha256_tests[] = {
    cmocka_unit_test(known_digests),
    cmocka_unit_test(missing_file_is_an_io_error),
};

OBATCH_TEST_MAIN(sha256_tests, nullptr, nullptr)
