// The C++ side of the provider ABI's opaque types: what a build hook fills
// (HttpRequest), what it reads (OpArgs) and what a parse hook reports
// (Remote). The C structs in include/obatch/sys/provider.h wrap these.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "obatch/sys/provider.h"

namespace obatch {

struct FormPart {
  std::string name, value;          // a plain field
  std::string path, filename, type; // a file part when path is set
};

struct HttpRequest {
  std::string method = "GET";
  std::string target;  // path below the base URL, or an absolute URL
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;
  std::string body_file;  // stream the body from this file
  std::vector<FormPart> form;
};

using Fields = std::map<std::string, std::string>;

struct Remote {
  Fields page;               // has_more, last_id; for single objects, all fields
  std::vector<Fields> items; // list entries
  bool in_item = false;

  std::string get(const std::string &key) const {
    auto it = page.find(key);
    return it == page.end() ? std::string() : it->second;
  }
};

// Human name of an op for messages: "upload", "create batch", ...
const char *op_name(int op);

}  // namespace obatch

struct obatch_op_args {
  obatch::Fields values;
};
struct obatch_http_request {
  obatch::HttpRequest req;
};
struct obatch_remote {
  obatch::Remote remote;
};
