#include "http/request_pool.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>

#include "http/easy_setup.hpp"
#include "obatch/obatch.h"
#include "util/error.hpp"

namespace obatch {

struct RequestPool::Slot {
  CURL *easy = nullptr;
  bool busy = false;
  std::string body;
  PoolResponse resp;
  char errbuf[CURL_ERROR_SIZE] = "";
};

namespace {

size_t on_header(char *data, size_t size, size_t n, void *user) {
  auto *resp = static_cast<PoolResponse *>(user);
  add_header_line(std::string_view(data, size * n), &resp->headers);
  return size * n;
}

size_t on_body(char *data, size_t size, size_t n, void *user) {
  auto *resp = static_cast<PoolResponse *>(user);
  const size_t len = size * n;
  const size_t room = RequestPool::kMaxBody - std::min(resp->body.size(), RequestPool::kMaxBody);
  if (len > room) resp->too_large = true;
  resp->body.append(data, std::min(len, room));
  return len;
}

}  // namespace

RequestPool::RequestPool(const std::string &bearer, TransferOptions opts, size_t max_in_flight)
    : opts_(std::move(opts)), max_(std::max<size_t>(1, max_in_flight)) {
  http_global_init();
  multi_ = curl_multi_init();
  if (!multi_) throw Error(OBATCH_ENOMEM, "cannot start libcurl");
  // Keep a connection per request in flight open between requests.
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(max_));
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
  std::string auth = auth_header_line(opts_.auth_header, bearer);
  headers_ = curl_slist_append(headers_, auth.c_str());
  std::fill(auth.begin(), auth.end(), '\0');
  headers_ = curl_slist_append(headers_, "Content-Type: application/json");
  headers_ = curl_slist_append(headers_, "Expect:");  // no 1 s wait for 100 Continue
}

RequestPool::~RequestPool() {
  drop_all();
  for (auto &s : slots_) curl_easy_cleanup(s->easy);
  curl_multi_cleanup(multi_);
  // Scrub the key from libcurl's copy of the header line.
  for (::curl_slist *h = headers_; h; h = h->next) std::memset(h->data, 0, std::strlen(h->data));
  curl_slist_free_all(headers_);
}

RequestPool::Slot *RequestPool::free_slot() {
  for (auto &s : slots_)
    if (!s->busy) return s.get();
  auto slot = std::make_unique<Slot>();
  slot->easy = curl_easy_init();
  if (!slot->easy) throw Error(OBATCH_ENOMEM, "cannot start libcurl");
  slots_.push_back(std::move(slot));
  return slots_.back().get();
}

void RequestPool::start(uint64_t tag, const std::string &url, std::string body) {
  Slot *s = free_slot();
  CURL *e = s->easy;
  curl_easy_reset(e);
  s->body = std::move(body);
  s->resp = PoolResponse();
  s->resp.tag = tag;
  s->errbuf[0] = '\0';
  setup_easy(e, url, opts_);
  if (url.rfind("https:", 0) == 0) {
    // Wait for a connection that may multiplex rather than open one more.
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->body.data());
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(s->body.size()));
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &s->resp);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &s->resp);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
  curl_easy_setopt(e, CURLOPT_PRIVATE, s);
  if (curl_multi_add_handle(multi_, e) != CURLM_OK)
    throw Error(OBATCH_ENOMEM, "cannot start a transfer (libcurl)");
  s->busy = true;
  busy_++;
}

void RequestPool::run(int wait_ms, std::vector<PoolResponse> *done) {
  int running = 0;
  curl_multi_perform(multi_, &running);
  auto collect = [&] {
    size_t got = 0;
    int queued = 0;
    while (CURLMsg *m = curl_multi_info_read(multi_, &queued)) {
      if (m->msg != CURLMSG_DONE) continue;
      CURL *e = m->easy_handle;
      const CURLcode result = m->data.result;
      Slot *s = nullptr;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, reinterpret_cast<char **>(&s));
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &s->resp.status);
      curl_multi_remove_handle(multi_, e);
      s->resp.curl_code = static_cast<int>(result);
      if (result != CURLE_OK) {
        // The buffer says more ("Connection refused"); it never holds
        // request headers.
        s->resp.curl_error = s->errbuf[0] ? s->errbuf : curl_easy_strerror(result);
        s->resp.status = 0;
      }
      s->resp.request_body = std::move(s->body);
      done->push_back(std::move(s->resp));
      s->resp = PoolResponse();
      s->body = std::string();
      s->busy = false;
      busy_--;
      got++;
    }
    return got;
  };
  if (collect() || wait_ms <= 0) return;
  int fds = 0;
  curl_multi_poll(multi_, nullptr, 0, wait_ms, &fds);
  curl_multi_perform(multi_, &running);
  collect();
}

void RequestPool::drop_all() {
  for (auto &s : slots_) {
    if (!s->busy) continue;
    curl_multi_remove_handle(multi_, s->easy);
    s->busy = false;
    busy_--;
  }
}

void RequestPool::wake() { curl_multi_wakeup(multi_); }

}  // namespace obatch
