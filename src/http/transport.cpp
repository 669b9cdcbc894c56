#include "http/transport.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "http/easy_setup.hpp"
#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/url.hpp"

namespace obatch {

namespace {

struct CallState {
  CURL *easy;
  HttpResponse *resp;
  const TransferOptions *opts;
  const std::atomic<bool> *stop;
  FILE *body_file = nullptr;
  bool write_failed = false;
  int write_errno = 0;
};

size_t on_header(char *data, size_t size, size_t n, void *user) {
  auto *st = static_cast<CallState *>(user);
  add_header_line(std::string_view(data, size * n), &st->resp->headers);
  return size * n;
}

size_t on_body(char *data, size_t size, size_t n, void *user) {
  auto *st = static_cast<CallState *>(user);
  size_t len = size * n;
  st->resp->bytes_received += len;
  // The body may arrive in the same read as the headers: ask curl for the
  // status now. Only a successful answer goes to the sink; an error body is
  // kept to be read.
  long status = 0;
  curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &status);
  if (st->opts->sink_fd >= 0 && status >= 200 && status < 300) {
    const char *p = data;
    size_t left = len;
    while (left) {
      ssize_t w = ::write(st->opts->sink_fd, p, left);
      if (w <= 0) {
        st->write_failed = true;
        st->write_errno = w < 0 ? errno : ENOSPC;
        return 0;  // aborts the transfer with CURLE_WRITE_ERROR
      }
      p += w;
      left -= static_cast<size_t>(w);
    }
    return len;
  }
  if (st->resp->body.size() < (16u << 20)) st->resp->body.append(data, len);
  return len;
}

size_t on_read(char *buf, size_t size, size_t n, void *user) {
  auto *st = static_cast<CallState *>(user);
  size_t got = fread(buf, 1, size * n, st->body_file);
  if (got == 0 && ferror(st->body_file)) return CURL_READFUNC_ABORT;
  return got;
}

int on_progress(void *user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto *st = static_cast<CallState *>(user);
  if (st->stop->load()) return 1;
  if (st->opts->abort && st->opts->abort()) {
    st->resp->aborted = true;
    return 1;
  }
  if (st->opts->progress)
    st->opts->progress(static_cast<uint64_t>(ulnow), static_cast<uint64_t>(dlnow));
  return 0;
}

}  // namespace

void http_global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Transport::Transport() {
  http_global_init();
  multi_ = curl_multi_init();
  easy_ = curl_easy_init();
  if (!multi_ || !easy_) throw Error(OBATCH_ENOMEM, "cannot start libcurl");
}

Transport::~Transport() {
  curl_easy_cleanup(easy_);
  curl_multi_cleanup(multi_);
}

void Transport::stop() {
  stop_ = true;
  curl_multi_wakeup(multi_);
}

void Transport::wake() { curl_multi_wakeup(multi_); }

bool Transport::sleep_ms(long ms, const std::function<bool()> &done) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds(ms);
  while (!stop_) {
    if (done && done()) return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return true;
    int fds = 0;
    curl_multi_poll(multi_, nullptr, 0, static_cast<int>(std::min<long long>(left, 1000000)), &fds);
  }
  return false;
}

std::string auth_header_line(const std::string &auth_header, const std::string &key) {
  return auth_header.empty() ? "Authorization: Bearer " + key : auth_header + ": " + key;
}

HttpResponse Transport::perform(const HttpRequest &req, const std::string &url,
                                const std::string &bearer, const TransferOptions &opts) {
  HttpResponse resp;
  CallState st{easy_, &resp, &opts, &stop_};
  if (stop_) {
    resp.interrupted = true;
    return resp;
  }
  CURL *e = easy_;
  curl_easy_reset(e);
  setup_easy(e, url, opts);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &st);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, &st);

  struct curl_slist *hdrs = nullptr;
  std::string auth = auth_header_line(opts.auth_header, bearer);
  hdrs = curl_slist_append(hdrs, auth.c_str());
  std::fill(auth.begin(), auth.end(), '\0');
  hdrs = curl_slist_append(hdrs, "Expect:");  // no 1 s wait for 100 Continue
  for (auto &h : req.headers) hdrs = curl_slist_append(hdrs, (h.first + ": " + h.second).c_str());
  if (!req.content_type.empty())
    hdrs = curl_slist_append(hdrs, ("Content-Type: " + req.content_type).c_str());

  curl_mime *mime = nullptr;
  if (!req.form.empty()) {
    mime = curl_mime_init(e);
    for (auto &part : req.form) {
      curl_mimepart *p = curl_mime_addpart(mime);
      curl_mime_name(p, part.name.c_str());
      if (!part.path.empty()) {
        if (curl_mime_filedata(p, part.path.c_str()) != CURLE_OK) {
          curl_mime_free(mime);
          curl_slist_free_all(hdrs);
          throw Error(OBATCH_EIO, "cannot read " + part.path);
        }
        curl_mime_filename(p, part.filename.c_str());
        if (!part.type.empty()) curl_mime_type(p, part.type.c_str());
      } else {
        curl_mime_data(p, part.value.c_str(), part.value.size());
      }
    }
    curl_easy_setopt(e, CURLOPT_MIMEPOST, mime);
  } else if (!req.body_file.empty()) {
    st.body_file = fopen(req.body_file.c_str(), "rb");
    if (!st.body_file) {
      curl_slist_free_all(hdrs);
      throw Error(OBATCH_EIO, "cannot read " + req.body_file);
    }
    fseeko(st.body_file, 0, SEEK_END);
    curl_off_t size = ftello(st.body_file);
    fseeko(st.body_file, 0, SEEK_SET);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, &st);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, size);
  } else if (req.method == "POST") {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (req.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (!req.body.empty()) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);

  char errbuf[CURL_ERROR_SIZE] = "";  // unset again below, before it goes
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  curl_multi_add_handle(multi_, e);
  int running = 1;
  CURLcode result = CURLE_OK;
  bool finished = false;
  while (!finished) {
    curl_multi_perform(multi_, &running);
    int queued = 0;
    while (CURLMsg *m = curl_multi_info_read(multi_, &queued)) {
      if (m->msg == CURLMSG_DONE && m->easy_handle == e) {
        result = m->data.result;
        finished = true;
      }
    }
    if (finished) break;
    if (stop_) {
      resp.interrupted = true;
      result = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    int fds = 0;
    curl_multi_poll(multi_, nullptr, 0, 1000, &fds);
  }
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp.status);
  curl_multi_remove_handle(multi_, e);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(hdrs);
  if (mime) curl_mime_free(mime);
  if (st.body_file) fclose(st.body_file);
  // Scrub the key from our copy of the header line.
  std::fill(auth.begin(), auth.end(), '\0');

  resp.curl_code = static_cast<int>(result);
  if (result != CURLE_OK) {
    // The buffer says more ("SSL certificate problem: self-signed
    // certificate"); it never holds request headers.
    resp.curl_error = st.write_failed ? "cannot write the downloaded file (disk full?)"
                      : errbuf[0]     ? errbuf
                                      : curl_easy_strerror(result);
    if (result == CURLE_ABORTED_BY_CALLBACK && stop_) resp.interrupted = true;
    if (st.write_failed) resp.write_errno = st.write_errno;
  }
  return resp;
}

}  // namespace obatch
