// Contract driver: sends obatch's real requests -- built by the registered
// "openai" provider (the default OpenAI adapter) and sent by the real
// ApiClient over the real Transport -- to a Prism mock that serves OpenAI's
// OpenAPI spec and rejects any request that violates it.
//
//   tests/contract/run_contract.sh build/tests/contract/contract_driver
//
// Needs OBATCH_CONTRACT_BASE_URL (http://127.0.0.1:PORT/v1) and
// OPENAI_API_KEY, both set by run_contract.sh. Prints one line per check and
// ends with "N passed, M failed"; exits 1 if any check failed, 2 on bad setup.
//
// It checks what the client SENDS (Prism's answers are placeholders: ids
// "string", status "validating"); tests/fake_server covers what it does with
// answers.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <fstream>
#include <memory>
#include <string>

#include "core/config.hpp"
#include "engine/api_client.hpp"
#include "http/transport.hpp"
#include "obatch/obatch.h"
#include "obatch/sys/provider.h"
#include "providers/provider.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json_write.hpp"
#include "util/url.hpp"

namespace {

using obatch::ApiClient;
using obatch::Error;
using obatch::Fields;
using obatch::Remote;

int passed = 0, failed = 0;

void report(bool ok, const std::string &name, const std::string &detail) {
  (ok ? passed : failed)++;
  std::printf("%-5s %-36s %s\n", ok ? "ok" : "FAIL", name.c_str(), detail.c_str());
  std::fflush(stdout);
}

// A call that must succeed: 2xx and an answer the adapter can read (the
// adapter throws EPROTOCOL otherwise). Returns the parsed answer, or an
// empty one after reporting the failure.
Remote expect_ok(const std::string &name, const std::function<Remote()> &call,
                 const std::function<std::string(const Remote &)> &describe) {
  try {
    Remote r = call();
    report(true, name, describe(r));
    return r;
  } catch (const Error &e) {
    report(false, name, std::string("error ") + std::to_string(e.code()) + ": " + e.what());
  } catch (const obatch::Stopped &) {
    report(false, name, "interrupted");
  } catch (const std::exception &e) {
    report(false, name, std::string("exception: ") + e.what());
  }
  return Remote{};
}

// A call that the server must refuse with a 4xx: ApiClient reports those as
// EHTTP "op: HTTP 4xx: ...", ENOTFOUND (404) or EAUTH (401/403).
void expect_refused(const std::string &name, int want_code, const std::function<Remote()> &call) {
  try {
    call();
    report(false, name, "the server accepted it (expected a 4xx)");
  } catch (const Error &e) {
    std::string msg = e.what();
    bool four_xx = e.code() == OBATCH_ENOTFOUND || msg.find(": HTTP 4") != std::string::npos;
    bool ok = e.code() == want_code && four_xx;
    report(ok, name, std::string(ok ? "refused: " : "wrong error " + std::to_string(e.code()) + ": ") + msg);
  } catch (const std::exception &e) {
    report(false, name, std::string("exception: ") + e.what());
  }
}

std::string get_or(const Remote &r, const char *key, const std::string &fallback) {
  std::string v = r.get(key);
  return v.empty() ? fallback : v;
}

std::string metadata_json(const std::string &tag) {
  std::string md = "{";
  obatch::json_append_string(md, "project");
  md += ":";
  obatch::json_append_string(md, "contract-test");
  md += ",";
  obatch::json_append_string(md, "owner");
  md += ":";
  obatch::json_append_string(md, "ci \"quoted\" \xc3\xa9");
  md += ",";
  obatch::json_append_string(md, "obatch_job");
  md += ":";
  obatch::json_append_string(md, tag);
  md += "}";
  return md;
}

}  // namespace

int main() {
  const char *base_env = std::getenv("OBATCH_CONTRACT_BASE_URL");
  if (!base_env || !*base_env) {
    std::fprintf(stderr, "contract_driver: OBATCH_CONTRACT_BASE_URL is not set "
                         "(run me through tests/contract/run_contract.sh)\n");
    return 2;
  }

  std::string dir, input_path, download_path;
  int rc = 0;
  try {
    // The settings a job would use, with retries off so a violation is seen
    // once and at once. The key comes from OPENAI_API_KEY, as for a job.
    obatch::Config conf;
    conf.set("provider", "openai");
    conf.set("base_url", base_env);
    conf.set("max_retries", "0");
    conf.set("connect_timeout_ms", "5000");
    conf.set("request_timeout_ms", "15000");
    auto provider = obatch::find_provider("openai");
    const std::string base_url = obatch::check_base_url(provider->base_url(conf));
    const std::string key = provider->api_key(conf);
    obatch::Transport transport;
    ApiClient client(provider, base_url, key, obatch::client_settings(conf), &transport);

    dir = obatch::make_private_dir("obatch-contract-driver");
    input_path = obatch::path_join(dir, "input.jsonl");
    download_path = obatch::path_join(dir, "download.bin");
    const std::string tag = obatch::random_hex(8);
    {
      std::ofstream out(input_path, std::ios::binary);
      out << R"({"custom_id":"r1","method":"POST","url":"/v1/chat/completions",)"
             R"("body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}})"
          << "\n"
          << R"({"custom_id":"r2","method":"POST","url":"/v1/chat/completions",)"
             R"("body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"yo"}]}})"
          << "\n";
      if (!out) throw Error(OBATCH_EIO, "cannot write " + input_path);
    }
    const std::string bytes = std::to_string(obatch::file_size(input_path));

    // ---- every op, as the engine sends it --------------------------------
    Remote up = expect_ok(
        "upload     POST /files",
        [&] {
          return client.call(OBATCH_OP_UPLOAD, {{"input_path", input_path},
                                                {"filename", "obatch-" + tag + ".jsonl"},
                                                {"bytes", bytes}});
        },
        [](const Remote &r) { return "file_id=" + r.get("file_id"); });
    const std::string file_id = get_or(up, "file_id", "file-contract");

    const std::string metadata = metadata_json(tag);
    Remote created = expect_ok(
        "create     POST /batches",
        [&] {
          return client.call(OBATCH_OP_CREATE, {{"input_file_id", file_id},
                                                {"input_path", input_path},
                                                {"endpoint", "/v1/chat/completions"},
                                                {"completion_window", "24h"},
                                                {"metadata", metadata}});
        },
        [](const Remote &r) { return "batch_id=" + r.get("batch_id") + " status=" + r.get("status"); });
    const std::string batch_id = get_or(created, "batch_id", "batch_contract");

    expect_ok(
        "retrieve   GET /batches/{id}",
        [&] { return client.call(OBATCH_OP_RETRIEVE, {{"batch_id", batch_id}}); },
        [](const Remote &r) { return "status=" + r.get("status"); });

    expect_ok(
        "cancel     POST /batches/{id}/cancel",
        [&] { return client.call(OBATCH_OP_CANCEL, {{"batch_id", batch_id}}); },
        [](const Remote &r) { return "status=" + r.get("status"); });

    auto list_desc = [](const Remote &r) {
      return std::to_string(r.items.size()) + " item(s), has_more=" + r.get("has_more") +
             " last_id=" + r.get("last_id");
    };
    Remote page = expect_ok(
        "list       GET /batches?limit",
        [&] { return client.call(OBATCH_OP_LIST, {{"limit", "100"}}); }, list_desc);
    // Page on with the last id, as the engine's reconcile loop does (one
    // page only: Prism always says has_more).
    const std::string after = get_or(page, "last_id", batch_id);
    expect_ok(
        "list       GET /batches?after&limit",
        [&] { return client.call(OBATCH_OP_LIST, {{"after", after}, {"limit", "2"}}); }, list_desc);

    {
      const std::string name = "download   GET /files/{id}/content";
      int fd = ::open(download_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd < 0) throw Error(OBATCH_EIO, "cannot create " + download_path);
      try {
        // Something stale in the file must be cut away first.
        if (::write(fd, "stale bytes", 11) != 11) throw Error(OBATCH_EIO, "cannot write");
        obatch::HttpResponse resp =
            client.download_once(OBATCH_OP_DOWNLOAD, {{"file_id", file_id}}, fd, {});
        struct stat st{};
        ::fstat(fd, &st);
        bool ok = resp.curl_code == 0 && resp.status >= 200 && resp.status < 300;
        if (!ok) {
          report(false, name, client.failure(OBATCH_OP_DOWNLOAD, resp, 1).what());
        } else if (resp.bytes_received == 0 ||
                   static_cast<uint64_t>(st.st_size) != resp.bytes_received) {
          report(false, name, "HTTP " + std::to_string(resp.status) + " but the file holds " +
                                  std::to_string(st.st_size) + " of " +
                                  std::to_string(resp.bytes_received) + " bytes received (" +
                                  std::to_string(resp.body.size()) +
                                  " kept in memory instead of the file)");
        } else {
          auto ct = resp.headers.find("content-type");
          report(true, name, std::to_string(resp.bytes_received) + " bytes, Content-Type " +
                                 (ct == resp.headers.end() ? "(none)" : ct->second));
        }
      } catch (const Error &e) {
        report(false, name, std::string("error ") + std::to_string(e.code()) + ": " + e.what());
      }
      ::close(fd);
    }

    expect_ok(
        "file_info  GET /files/{id}",
        [&] { return client.call(OBATCH_OP_FILE_INFO, {{"file_id", file_id}}); },
        [](const Remote &r) { return "file_id=" + r.get("file_id") + " bytes=" + r.get("file_bytes"); });

    expect_ok(
        "list_files GET /files?purpose&limit",
        [&] { return client.call(OBATCH_OP_LIST_FILES, {{"purpose", "batch"}, {"limit", "100"}}); },
        list_desc);
    expect_ok(
        "list_files GET /files?purpose&after&limit",
        [&] {
          return client.call(OBATCH_OP_LIST_FILES,
                             {{"purpose", "batch"}, {"after", file_id}, {"limit", "10"}});
        },
        list_desc);

    // ---- negatives: the mock must refuse these, or the checks above prove
    // nothing. Same client, same adapter; only the arguments are wrong.
    Fields bad_window{{"input_file_id", file_id},
                      {"endpoint", "/v1/chat/completions"},
                      {"completion_window", "48h"}};
    expect_refused("refused    completion_window 48h", OBATCH_EHTTP,
                   [&] { return client.call(OBATCH_OP_CREATE, bad_window); });
    Fields bad_endpoint{{"input_file_id", file_id},
                        {"endpoint", "/v1/no-such-endpoint"},
                        {"completion_window", "24h"}};
    expect_refused("refused    unknown endpoint", OBATCH_EHTTP,
                   [&] { return client.call(OBATCH_OP_CREATE, bad_endpoint); });
    // A base URL without the /v1 path: every path is then unknown (404).
    {
      const std::string root = base_url.substr(0, base_url.rfind("/v1"));
      ApiClient rootless(provider, root, key, obatch::client_settings(conf), &transport);
      expect_refused("refused    base URL without /v1", OBATCH_ENOTFOUND,
                     [&] { return rootless.call(OBATCH_OP_RETRIEVE, {{"batch_id", batch_id}}); });
    }
  } catch (const Error &e) {
    std::fprintf(stderr, "contract_driver: setup failed: %s\n", e.what());
    rc = 2;
  }

  if (!download_path.empty()) ::unlink(download_path.c_str());
  if (!input_path.empty()) ::unlink(input_path.c_str());
  if (!dir.empty()) ::rmdir(dir.c_str());
  if (rc != 0) return rc;
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
