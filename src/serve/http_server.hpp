// The HTTP side of `obatch serve`, on GNU libmicrohttpd: keep-alive, a pool
// of threads over epoll (many connections), request bodies handed over in
// pieces so that an upload goes to disk as it arrives. This file knows HTTP
// only; what a path means is the handler's business (serve/server.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct MHD_Daemon;

namespace obatch::serve {

// A file part of a multipart/form-data body, written to disk as it came.
struct Upload {
  std::string path;      // a temporary file (the handler renames or removes it)
  std::string filename;  // as the client named it
  uint64_t bytes = 0;
};

struct HttpRequest {
  std::string method, path;  // path without the query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                            // any body but multipart
  std::map<std::string, std::string> fields;   // multipart fields but files
  std::optional<Upload> upload;                // multipart "file" part
  std::string client;                          // set by the gate (who is asking)

  std::string header(const std::string &lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string file_path;  // when set: the body is this file, streamed
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8088;  // 0: any free port (HttpServer::port says which)
  unsigned threads = 4;
  uint64_t max_body = 32u << 20;     // a JSON body
  uint64_t max_upload = 200u << 20;  // a multipart upload (OpenAI: 200 MB a batch input)
  std::string upload_dir;            // where uploads are written while they arrive
};

// The gate runs once the headers are in, before any body is read: it may
// answer at once (a refused key, a body too big), and fills request.client.
using Gate = std::function<std::optional<HttpResponse>(HttpRequest &request)>;
using Handler = std::function<HttpResponse(HttpRequest &request)>;

class HttpServer {
 public:
  // Listens at once; throws std::runtime_error when it cannot.
  HttpServer(HttpOptions options, Gate gate, Handler handler);
  ~HttpServer();  // stops: waits for the handlers that run
  HttpServer(const HttpServer &) = delete;
  HttpServer &operator=(const HttpServer &) = delete;

  uint16_t port() const { return port_; }
  const HttpOptions &options() const { return options_; }

  // The OpenAI error shape {"error": {"message", "type", "param", "code"}}.
  static HttpResponse error(int status, const std::string &message, const std::string &type,
                            const std::string &code = "", const std::string &param = "");

 private:
  friend struct HttpServerAccess;  // the library's callbacks (http_server.cpp)

  HttpOptions options_;
  Gate gate_;
  Handler handler_;
  MHD_Daemon *daemon_ = nullptr;
  uint16_t port_ = 0;
};

}  // namespace obatch::serve
