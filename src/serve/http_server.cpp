#include "serve/http_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "util/json_write.hpp"

namespace obatch::serve {

namespace {

constexpr size_t kMaxField = 64 * 1024;  // a multipart field that is not the file

std::string lower(std::string s) {
  for (char &c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string size_text(uint64_t bytes) {
  return bytes % (1u << 20) == 0 ? std::to_string(bytes >> 20) + " MiB"
                                 : std::to_string(bytes) + " bytes";
}

}  // namespace

// One request, from its headers to the end of its answer.
struct Exchange {
  HttpServer *server = nullptr;
  HttpRequest req;
  MHD_PostProcessor *post = nullptr;
  int upload_fd = -1;
  std::optional<HttpResponse> refusal;  // a body too big or not readable
  bool answered = false;                // a response was queued at the headers

  ~Exchange() {
    if (post) MHD_destroy_post_processor(post);
    if (upload_fd >= 0) close(upload_fd);
    // An upload the handler did not take is not kept.
    if (req.upload && !req.upload->path.empty()) unlink(req.upload->path.c_str());
  }

  void refuse(HttpResponse r) {
    if (!refusal) refusal = std::move(r);
  }

  void too_big() {
    refuse(HttpServer::error(413,
                             "The upload is larger than this server accepts (" +
                                 size_text(server->options().max_upload) + ").",
                             "invalid_request_error", "file_too_large", "file"));
  }
};

struct HttpServerAccess {
  static MHD_Result on_field(void *cls, MHD_ValueKind, const char *key, const char *filename,
                             const char *, const char *, const char *data, uint64_t, size_t size) {
    auto *ex = static_cast<Exchange *>(cls);
    if (ex->refusal) return MHD_NO;
    const std::string name = key ? key : "";
    if (filename == nullptr && name != "file") {
      std::string &field = ex->req.fields[name];
      if (field.size() + size > kMaxField) {
        ex->refuse(HttpServer::error(400, "The form field " + name + " is too long.",
                                     "invalid_request_error", "", name));
        return MHD_NO;
      }
      field.append(data, size);
      return MHD_YES;
    }
    if (name != "file") {
      ex->refuse(HttpServer::error(400, "Unexpected file field " + name + "; send it as \"file\".",
                                   "invalid_request_error", "", name));
      return MHD_NO;
    }
    if (!ex->req.upload) {
      Upload up;
      up.filename = filename ? filename : "";
      std::string tmpl = ex->server->options().upload_dir + "/upload-XXXXXX";
      ex->upload_fd = mkostemp(tmpl.data(), O_CLOEXEC);
      if (ex->upload_fd < 0) {
        ex->refuse(HttpServer::error(500, "The server cannot store the upload.", "server_error"));
        return MHD_NO;
      }
      up.path = tmpl;
      ex->req.upload = std::move(up);
    }
    Upload &up = *ex->req.upload;
    if (up.bytes + size > ex->server->options().max_upload) {
      ex->too_big();
      return MHD_NO;
    }
    for (size_t done = 0; done < size;) {
      const ssize_t n = write(ex->upload_fd, data + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ex->refuse(HttpServer::error(500, "The server cannot store the upload.", "server_error"));
        return MHD_NO;
      }
      done += static_cast<size_t>(n);
    }
    up.bytes += size;
    return MHD_YES;
  }

  static MHD_Result add_pair(void *cls, MHD_ValueKind, const char *key, const char *value) {
    auto *map = static_cast<std::map<std::string, std::string> *>(cls);
    if (key) (*map)[lower(key)] = value ? value : "";
    return MHD_YES;
  }

  static MHD_Result add_query(void *cls, MHD_ValueKind, const char *key, const char *value) {
    auto *map = static_cast<std::map<std::string, std::string> *>(cls);
    if (key) (*map)[key] = value ? value : "";
    return MHD_YES;
  }

  static MHD_Result send(MHD_Connection *conn, const HttpResponse &r) {
    MHD_Response *resp = nullptr;
    if (!r.file_path.empty()) {
      const int fd = open(r.file_path.c_str(), O_RDONLY | O_CLOEXEC);
      struct stat st {};
      if (fd >= 0 && fstat(fd, &st) == 0) {
        resp = MHD_create_response_from_fd64(static_cast<uint64_t>(st.st_size), fd);
      } else {
        if (fd >= 0) close(fd);
        return send(conn, HttpServer::error(500, "The file cannot be read.", "server_error"));
      }
    } else {
      resp = MHD_create_response_from_buffer(r.body.size(), const_cast<char *>(r.body.data()),
                                             MHD_RESPMEM_MUST_COPY);
    }
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
    for (const auto &[name, value] : r.headers)
      MHD_add_response_header(resp, name.c_str(), value.c_str());
    const MHD_Result rc = MHD_queue_response(conn, static_cast<unsigned>(r.status), resp);
    MHD_destroy_response(resp);
    return rc;
  }

  static MHD_Result on_request(void *cls, MHD_Connection *conn, const char *url, const char *method,
                               const char *, const char *upload_data, size_t *upload_size,
                               void **state) {
    auto *server = static_cast<HttpServer *>(cls);
    auto *ex = static_cast<Exchange *>(*state);
    if (ex == nullptr) {  // the headers are in; no body yet
      auto made = std::make_unique<Exchange>();
      made->server = server;
      made->req.method = method;
      made->req.path = url;
      MHD_get_connection_values(conn, MHD_HEADER_KIND, add_pair, &made->req.headers);
      MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query, &made->req.query);
      *state = ex = made.release();
      std::optional<HttpResponse> early;
      try {
        early = server->gate_(ex->req);
      } catch (const std::exception &e) {
        early = HttpServer::error(500, "internal error", "server_error");
      }
      const std::string length = ex->req.header("content-length");
      const bool multipart =
          lower(ex->req.header("content-type")).rfind("multipart/form-data", 0) == 0;
      const uint64_t limit =
          multipart ? server->options_.max_upload + kMaxField : server->options_.max_body;
      if (!early && !length.empty() && std::strtoull(length.c_str(), nullptr, 10) > limit) {
        ex->too_big();
        early = *ex->refusal;
      }
      if (!early && multipart) {
        ex->post = MHD_create_post_processor(conn, 64 * 1024, on_field, ex);
        if (!ex->post)
          early = HttpServer::error(400, "The multipart body has no boundary.",
                                    "invalid_request_error");
      }
      if (!early) return MHD_YES;
      // A refusal is answered at once when no body comes, or when the client
      // waits for "100 Continue" before sending it. Most clients (Python's,
      // the OpenAI SDKs) send the body anyway and do not read an answer that
      // came before they finished: theirs is dropped as it arrives, then
      // answered.
      const bool body_follows =
          (!length.empty() && length != "0") || !ex->req.header("transfer-encoding").empty();
      if (body_follows && lower(ex->req.header("expect")) != "100-continue") {
        ex->refuse(*early);
        return MHD_YES;
      }
      ex->answered = true;
      return send(conn, *early);
    }
    if (ex->answered) {  // the body of a request already refused: dropped
      *upload_size = 0;
      return MHD_YES;
    }
    if (*upload_size > 0) {
      if (!ex->refusal) {
        if (ex->post) {
          if (MHD_post_process(ex->post, upload_data, *upload_size) != MHD_YES)
            ex->refuse(HttpServer::error(400, "The multipart body cannot be read.",
                                         "invalid_request_error"));
        } else if (ex->req.body.size() + *upload_size > server->options_.max_body) {
          ex->refuse(HttpServer::error(413, "The request body is too large.",
                                       "invalid_request_error", "request_too_large"));
        } else {
          ex->req.body.append(upload_data, *upload_size);
        }
      }
      *upload_size = 0;
      return MHD_YES;
    }
    // The whole body is in.
    if (ex->upload_fd >= 0) {
      if (fsync(ex->upload_fd) != 0)
        ex->refuse(HttpServer::error(500, "The server cannot store the upload.", "server_error"));
      close(ex->upload_fd);
      ex->upload_fd = -1;
    }
    if (ex->refusal) return send(conn, *ex->refusal);
    HttpResponse r;
    try {
      r = server->handler_(ex->req);
    } catch (const std::exception &e) {
      r = HttpServer::error(500, std::string("internal error: ") + e.what(), "server_error");
    }
    return send(conn, r);
  }

  static void on_completed(void *, MHD_Connection *, void **state, MHD_RequestTerminationCode) {
    delete static_cast<Exchange *>(*state);
    *state = nullptr;
  }
};

HttpServer::HttpServer(HttpOptions options, Gate gate, Handler handler)
    : options_(std::move(options)), gate_(std::move(gate)), handler_(std::move(handler)) {
  sockaddr_storage addr{};
  const bool v6 = options_.host.find(':') != std::string::npos;
  if (v6) {
    auto *a = reinterpret_cast<sockaddr_in6 *>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(options_.port);
    if (inet_pton(AF_INET6, options_.host.c_str(), &a->sin6_addr) != 1)
      throw std::runtime_error("not an IPv6 address: " + options_.host);
  } else {
    auto *a = reinterpret_cast<sockaddr_in *>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(options_.port);
    if (inet_pton(AF_INET, options_.host.c_str(), &a->sin_addr) != 1) {
      addrinfo hints{}, *found = nullptr;
      hints.ai_family = AF_INET;
      if (getaddrinfo(options_.host.c_str(), nullptr, &hints, &found) != 0 || !found)
        throw std::runtime_error("cannot resolve " + options_.host);
      a->sin_addr = reinterpret_cast<sockaddr_in *>(found->ai_addr)->sin_addr;
      freeaddrinfo(found);
    }
  }
  unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
  if (v6) flags |= MHD_USE_IPv6;
  daemon_ = MHD_start_daemon(flags, options_.port, nullptr, nullptr, &HttpServerAccess::on_request,
                             this, MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr *>(&addr),
                             MHD_OPTION_THREAD_POOL_SIZE, options_.threads,
                             MHD_OPTION_CONNECTION_TIMEOUT, 300u, MHD_OPTION_NOTIFY_COMPLETED,
                             &HttpServerAccess::on_completed, this, MHD_OPTION_END);
  if (!daemon_)
    throw std::runtime_error("cannot listen on " + options_.host + ":" +
                             std::to_string(options_.port) + ": " + std::strerror(errno));
  const MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info ? info->port : options_.port;
}

HttpServer::~HttpServer() {
  if (daemon_) MHD_stop_daemon(daemon_);
}

HttpResponse HttpServer::error(int status, const std::string &message, const std::string &type,
                               const std::string &code, const std::string &param) {
  HttpResponse r;
  r.status = status;
  r.body = "{\"error\":{\"message\":" + json_quote(message) + ",\"type\":" + json_quote(type) +
           ",\"param\":" + (param.empty() ? "null" : json_quote(param)) +
           ",\"code\":" + (code.empty() ? "null" : json_quote(code)) + "}}";
  return r;
}

}  // namespace obatch::serve
