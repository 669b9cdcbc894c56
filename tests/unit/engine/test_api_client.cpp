// ApiClient::failure: what a failed call says. It names hosts, never a key,
// a redirect's path or query, and it points at ca_file for TLS trust.
#include "engine/api_client.hpp"
#include "unit_support.hpp"

using obatch::ApiClient;
using obatch::HttpResponse;

namespace {

const char kKey[] = "sk-proj-unit0123456789abcdef0123456789";

ApiClient client(const std::string &ca_file = "") {
  obatch::ClientSettings s;
  s.ca_file = ca_file;
  return ApiClient(obatch::find_provider("openai"), "https://api.example.com:8443/v1", kKey, s,
                   nullptr);
}

HttpResponse answer(long status, std::string body = "") {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string message(const obatch::Error &e) { return e.what(); }

}  // namespace

static void redirect_names_the_host_only(void **) {
  HttpResponse r = answer(307);
  r.headers["location"] = "https://evil.example.net:9000/v1/files?token=abc#x";
  obatch::Error e = client().failure(OBATCH_OP_UPLOAD, r, 1);
  assert_int_equal(e.code(), OBATCH_EHTTP);
  assert_false(e.transient());
  std::string m = message(e);
  assert_contains(m, "redirected (HTTP 307) to evil.example.net:9000");
  assert_contains(m, "does not follow redirects");
  assert_false(unit::contains(m, "token"));
  assert_false(unit::contains(m, "/v1/files"));
}

static void redirect_on_the_same_host(void **) {
  HttpResponse r = answer(302);
  r.headers["location"] = "/v2/batches?after=x";
  assert_contains(message(client().failure(OBATCH_OP_LIST, r, 1)),
                  "redirected (HTTP 302) to another path on api.example.com");
  r.headers["location"] = "https://API.example.com:8443/elsewhere";
  assert_contains(message(client().failure(OBATCH_OP_LIST, r, 1)),
                  "to another path on api.example.com");
}

static void redirect_without_a_usable_location(void **) {
  HttpResponse r = answer(301);
  assert_contains(message(client().failure(OBATCH_OP_LIST, r, 1)),
                  "redirected (HTTP 301) to another address");
  r.headers["location"] = std::string("https://") + kKey + "@evil.example.net/";
  std::string m = message(client().failure(OBATCH_OP_LIST, r, 1));
  assert_contains(m, "to another address");
  assert_false(unit::contains(m, kKey));
}

static void key_echoed_in_a_long_body_is_redacted_before_cutting(void **) {
  // Not JSON: the message shows an excerpt of 200 characters, and the key
  // straddles its end. A cut key would no longer match the redaction.
  std::string body = std::string(180, 'x') + " Bearer " + kKey + " more";
  std::string m = message(client().failure(OBATCH_OP_LIST, answer(502, body), 1));
  assert_contains(m, "HTTP 502");
  assert_false(unit::contains(m, std::string(kKey).substr(0, 12)));
  // JSON error message: the whole key is replaced.
  std::string json = std::string("{\"error\":{\"message\":\"got Bearer ") + kKey + "\"}}";
  m = message(client().failure(OBATCH_OP_LIST, answer(500, json), 1));
  assert_contains(m, "got Bearer [redacted]");
}

static void untrusted_certificate_points_at_ca_file(void **) {
  HttpResponse r;
  r.curl_code = 60;  // CURLE_PEER_FAILED_VERIFICATION
  r.curl_error = "SSL certificate problem: self-signed certificate";
  obatch::Error e = client().failure(OBATCH_OP_UPLOAD, r, 1);
  assert_int_equal(e.code(), OBATCH_EINSECURE);
  assert_false(e.transient());
  std::string m = message(e);
  assert_contains(m, "TLS certificate of api.example.com is not trusted");
  assert_contains(m, "self-signed certificate");
  assert_contains(m, "ca_file");
  assert_contains(message(client("/etc/my-ca.pem").failure(OBATCH_OP_UPLOAD, r, 1)),
                  "ca_file is '/etc/my-ca.pem'");
}

static void unusable_ca_file_names_it(void **) {
  HttpResponse r;
  r.curl_code = 77;  // CURLE_SSL_CACERT_BADFILE
  r.curl_error = "error setting certificate file: /tmp/gone.pem";
  obatch::Error e = client("/tmp/gone.pem").failure(OBATCH_OP_LIST, r, 1);
  assert_int_equal(e.code(), OBATCH_ECONFIG);
  assert_contains(message(e), "cannot use the CA file '/tmp/gone.pem' (ca_file)");
}

static void refused_key_names_the_variable(void **) {
  std::string body = std::string("{\"error\":{\"message\":\"Incorrect API key provided: ") + kKey +
                     "\",\"code\":\"invalid_api_key\"}}";
  obatch::Error e = client().failure(OBATCH_OP_LIST, answer(401, body), 1);
  assert_int_equal(e.code(), OBATCH_EAUTH);
  std::string m = message(e);
  assert_contains(m, "OPENAI_API_KEY");
  assert_false(unit::contains(m, kKey));
}

static const struct CMUnitTest api_client_tests[] = {
    cmocka_unit_test(redirect_names_the_host_only),
    cmocka_unit_test(redirect_on_the_same_host),
    cmocka_unit_test(redirect_without_a_usable_location),
    cmocka_unit_test(key_echoed_in_a_long_body_is_redacted_before_cutting),
    cmocka_unit_test(untrusted_certificate_points_at_ca_file),
    cmocka_unit_test(unusable_ca_file_names_it),
    cmocka_unit_test(refused_key_names_the_variable),
};

OBATCH_TEST_MAIN(api_client_tests, nullptr, nullptr)
