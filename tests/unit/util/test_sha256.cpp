// SHA-256 of a file and of bytes as they go by: known vectors, and a clear
// error for a missing file.
#include <algorithm>

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

// Pieces of any size give the digest of the whole, as the file's does.
static void digest_in_pieces(void **) {
  obatch::Sha256 none;
  assert_str_eq(none.hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  obatch::Sha256 abc;
  abc.update("a", 1);
  abc.update("", 0);
  abc.update("bc", 2);
  assert_str_eq(abc.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  unit::TempDir tmp;
  std::string big;
  for (int i = 0; big.size() < (3u << 20); i++) big += std::to_string(i) + "\n";
  unit::write_all(tmp.file("big"), big);
  obatch::Sha256 pieces;
  for (size_t at = 0, n = 1; at < big.size(); at += n, n = n * 3 % 70001 + 1)
    pieces.update(big.data() + at, std::min(n, big.size() - at));
  assert_str_eq(pieces.hex(), obatch::sha256_file_hex(tmp.file("big")));
}

static void missing_file_is_an_io_error(void **) {
  EXPECT_ERROR(OBATCH_EIO, "cannot read /nonexistent/x", obatch::sha256_file_hex("/nonexistent/x"));
}

static const struct CMUnitTest sha256_tests[] = {
    cmocka_unit_test(known_digests),
    cmocka_unit_test(digest_in_pieces),
    cmocka_unit_test(missing_file_is_an_io_error),
};

OBATCH_TEST_MAIN(sha256_tests, nullptr, nullptr)
