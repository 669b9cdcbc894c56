// URL rules of the transport: https anywhere, http only to loopback, and a
// key only ever sent to its own origin.
#include "unit_support.hpp"
#include "util/url.hpp"

using obatch::UrlParts;

static UrlParts parsed(const std::string &url) {
  UrlParts p;
  assert_true(obatch::parse_url(url, &p));
  return p;
}

static void parse_url_splits_scheme_host_port(void **) {
  UrlParts p = parsed("HTTPS://API.OpenAI.com:8443/v1/batches?x=1");
  assert_str_eq(p.scheme, "https");
  assert_str_eq(p.host, "api.openai.com");
  assert_str_eq(p.port, "8443");

  p = parsed("http://localhost");
  assert_str_eq(p.scheme, "http");
  assert_str_eq(p.host, "localhost");
  assert_str_eq(p.port, "");
}

static void parse_url_ipv6_brackets(void **) {
  UrlParts p = parsed("http://[::1]:8080/v1");
  assert_str_eq(p.host, "::1");
  assert_str_eq(p.port, "8080");

  p = parsed("https://[2001:DB8::1]/");
  assert_str_eq(p.host, "2001:db8::1");
  assert_str_eq(p.port, "");

  UrlParts untouched;
  untouched.host = "unchanged";
  assert_false(obatch::parse_url("http://[::1/v1", &untouched));  // no ']'
  assert_false(obatch::parse_url("http://[::1]x/v1", &untouched));
  assert_str_eq(untouched.host, "unchanged");
}

static void parse_url_rejects_userinfo(void **) {
  UrlParts p;
  // A user:password@ part can disguise the real host.
  assert_false(obatch::parse_url("https://user:pw@api.openai.com/v1", &p));
  assert_false(obatch::parse_url("https://api.openai.com@evil.com/v1", &p));
}

static void parse_url_rejects_non_urls(void **) {
  UrlParts p;
  assert_false(obatch::parse_url("api.openai.com/v1", &p));
  assert_false(obatch::parse_url("ftp://example.com/", &p));
  assert_false(obatch::parse_url("https:///v1", &p));
  assert_false(obatch::parse_url("https://host:80a/", &p));
  assert_false(obatch::parse_url("", &p));
}

static void loopback_hosts(void **) {
  assert_true(obatch::is_loopback_host("127.0.0.1"));
  assert_true(obatch::is_loopback_host("127.1.2.3"));
  assert_true(obatch::is_loopback_host("127.255.255.254"));
  assert_true(obatch::is_loopback_host("localhost"));
  assert_true(obatch::is_loopback_host("::1"));
}

static void non_loopback_hosts(void **) {
  assert_false(obatch::is_loopback_host("127.evil.com"));
  assert_false(obatch::is_loopback_host("127.0.0.1.nip.io"));
  assert_false(obatch::is_loopback_host("127.0.0.1.2"));
  assert_false(obatch::is_loopback_host("128.0.0.1"));
  assert_false(obatch::is_loopback_host("10.0.0.1"));
  assert_false(obatch::is_loopback_host("localhost.evil.com"));
  assert_false(obatch::is_loopback_host("api.openai.com"));
  assert_false(obatch::is_loopback_host(""));
}

static void check_base_url_accepts_https(void **) {
  assert_str_eq(obatch::check_base_url("https://api.openai.com/v1"), "https://api.openai.com/v1");
  assert_str_eq(obatch::check_base_url("https://example.com:8443"), "https://example.com:8443");
}

static void check_base_url_accepts_http_loopback(void **) {
  assert_str_eq(obatch::check_base_url("http://127.0.0.1:8080/v1"), "http://127.0.0.1:8080/v1");
  assert_str_eq(obatch::check_base_url("http://localhost:9/v1"), "http://localhost:9/v1");
  assert_str_eq(obatch::check_base_url("http://[::1]:9/v1"), "http://[::1]:9/v1");
}

static void check_base_url_removes_trailing_slash(void **) {
  assert_str_eq(obatch::check_base_url("https://api.openai.com/v1/"), "https://api.openai.com/v1");
  assert_str_eq(obatch::check_base_url("https://api.openai.com/v1//"), "https://api.openai.com/v1");
}

static void check_base_url_rejects_http_remote(void **) {
  std::string msg = EXPECT_ERROR(OBATCH_EINSECURE, "http://api.openai.com/v1",
                                 obatch::check_base_url("http://api.openai.com/v1"));
  assert_contains(msg, "https://");
  EXPECT_ERROR(OBATCH_EINSECURE, "127.evil.com", obatch::check_base_url("http://127.evil.com/v1"));
}

static void check_base_url_rejects_garbage(void **) {
  EXPECT_ERROR(OBATCH_ECONFIG, "'not a url'", obatch::check_base_url("not a url"));
  EXPECT_ERROR(OBATCH_ECONFIG, "ftp://x", obatch::check_base_url("ftp://x/v1"));
  EXPECT_ERROR(OBATCH_ECONFIG, "not an absolute", obatch::check_base_url(""));
  EXPECT_ERROR(OBATCH_ECONFIG, "user@", obatch::check_base_url("https://user@api.openai.com/v1"));
}

static void same_origin_compares_scheme_host_port(void **) {
  const std::string base = "https://api.openai.com/v1";
  assert_true(obatch::same_origin("https://api.openai.com/v1/files/x/content", base));
  assert_true(obatch::same_origin("https://API.openai.com/other", base));
  assert_false(obatch::same_origin("http://api.openai.com/v1/files", base));
  assert_false(obatch::same_origin("https://api.openai.com:444/v1", base));
  assert_false(obatch::same_origin("https://files.openai.com/v1", base));
  assert_false(obatch::same_origin("https://api.openai.com.evil.com/v1", base));
  assert_false(obatch::same_origin("/v1/files", base));
}

static const struct CMUnitTest url_tests[] = {
    cmocka_unit_test(parse_url_splits_scheme_host_port),
    cmocka_unit_test(parse_url_ipv6_brackets),
    cmocka_unit_test(parse_url_rejects_userinfo),
    cmocka_unit_test(parse_url_rejects_non_urls),
    cmocka_unit_test(loopback_hosts),
    cmocka_unit_test(non_loopback_hosts),
    cmocka_unit_test(check_base_url_accepts_https),
    cmocka_unit_test(check_base_url_accepts_http_loopback),
    cmocka_unit_test(check_base_url_removes_trailing_slash),
    cmocka_unit_test(check_base_url_rejects_http_remote),
    cmocka_unit_test(check_base_url_rejects_garbage),
    cmocka_unit_test(same_origin_compares_scheme_host_port),
};

OBATCH_TEST_MAIN(url_tests, nullptr, nullptr)
