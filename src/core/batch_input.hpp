// The batch being built: validated requests streamed to a JSONL file on disk,
// with the custom_id index and the running totals the limits are checked on.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/id_index.hpp"
#include "core/input_rules.hpp"
#include "core/part_plan.hpp"
#include "core/request.hpp"

namespace obatch {

// The first request of a JSONL file, with the checks append_file gives its
// line 1 (framing, then the line): for choosing the provider from its model
// before append_file. Throws the error append_file would for line 1, or
// Error(EREQUEST) "PATH: the file has no requests".
Request first_file_request(const std::string &path);

class BatchInput {
 public:
  // `path`: the JSONL file to write (created, 0600), or "" to write nothing
  // (a check: every rule and total as if written). `id_prefix`: for
  // generated custom_ids.
  BatchInput(std::string path, std::string id_prefix);
  ~BatchInput();
  BatchInput(const BatchInput &) = delete;
  BatchInput &operator=(const BatchInput &) = delete;

  // Until rules are set only provider-free checks run; set them before the
  // first append (the provider may be chosen from the first request).
  void set_rules(InputRules rules);
  bool has_rules() const { return !rules_.provider.empty(); }

  // Checks `r` against the batch (duplicate id, endpoint, model, limits) and
  // writes it. `where` starts every error message ("request 3", "in.jsonl
  // line 3"). `line`: the request's line in its file, if it comes from one
  // (later messages then point at "line N" rather than "request N").
  // Nothing is written when it throws. An empty r.custom_id is filled in
  // with the one generated (r is the caller's: its buffers are reused).
  void append(Request &r, const std::string &where, uint64_t line = 0) {
    append(r, r.body, where, line);
  }
  void append(Request &&r, const std::string &where, uint64_t line = 0) { append(r, where, line); }
  // The same with the body as one line of text given apart (r.body is then
  // not read, unless a translate rule rewrites the request).
  void append(Request &r, std::string_view body, const std::string &where, uint64_t line = 0);

  // Adds one request body per line of `bodies` (JSONL), each with the
  // checks parse_request_body gives it (`endpoint` as there) and a
  // generated custom_id, all or nothing. Errors start with "line N" (of
  // `bodies`). Returns how many it added.
  uint64_t append_bodies(std::string_view bodies, std::string_view endpoint);

  // Adds every line of a JSONL file, all or nothing. Returns the SHA-256
  // (hex) of the bytes it read: the file as added, even if it changes later.
  std::string append_file(const std::string &path);

  // Pushes buffered lines into the file (appends may follow).
  void flush();

  // Flushes and closes the file; no append after it.
  void finish();

  // With split rules: the parts the input is cut into (one, when it fits
  // in one batch), in the order their first requests come.
  const std::vector<PartInfo> &parts() const { return cutter_.parts(); }
  // Their estimated prompt tokens, summed.
  uint64_t estimated_tokens() const {
    uint64_t n = 0;
    for (const PartInfo &p : parts()) n += p.tokens;
    return n;
  }
  // After finish(), for more than one part: writes each part's requests to
  // its own file (the input's path with "-pN" before ".jsonl", 0600),
  // removes the whole file, and returns the SHA-256 (hex) of the whole file
  // as it was.
  // Returns "" and writes nothing for one part (its file is the input).
  std::string write_parts();
  const std::vector<std::string> &part_paths() const { return part_paths_; }

  const std::string &path() const { return path_; }
  const std::string &endpoint() const { return endpoint_; }
  const std::string &model() const { return model_; }
  // The distinct models, joined by "," (the first kListedModels, then
  // ",..."); "" when no request names one.
  std::string models() const;
  static constexpr size_t kListedModels = 8;
  uint64_t count() const { return ids_.size(); }
  uint64_t bytes() const { return bytes_; }
  const IdIndex &ids() const { return ids_; }
  // Hands the ids over (to the job that runs the batch); the input is empty
  // of them afterwards.
  IdIndex take_ids() {
    lines_.clear();
    files_.clear();
    part_of_.clear();
    part_of_.shrink_to_fit();
    ids_.place_pending();
    return std::move(ids_);
  }
  // The custom_id the next request gets when the caller gives none.
  std::string next_custom_id() const;

 private:
  struct Mark {
    uint64_t count, bytes, embedding_inputs;
    std::string endpoint, model;
    size_t models;
    bool more_models;
    PartCutter cutter;
  };
  Mark mark() const;
  void rollback(const Mark &m);
  // Writes out the bytes the buffer holds.
  void drain();
  // The buffer, with room for `n` more bytes.
  char *room(size_t n);
  // A padded copy of `text` for for_each_jsonl_request (reused).
  std::string_view padded(std::string_view text);
  // "line 4", "other.jsonl line 4" or "request 4": where the request at
  // 0-based `index` came from. The file is named unless it is the one being
  // added now.
  std::string origin(uint64_t index) const;

  std::string path_;
  std::string id_prefix_;
  bool prefixed_ids_ = false;  // a caller's custom_id looked like "<prefix>-..."
  int fd_ = -1;                // -1 when writing nothing
  // Lines on their way to the file: appended here, written out a megabyte
  // at a time (no copy into a line of its own first, no stdio).
  std::unique_ptr<char[]> out_;
  size_t out_len_ = 0, out_cap_ = 0;
  uint64_t on_disk_ = 0;         // bytes of the file written out (bytes_ - out_len_)
  std::string quoted_;           // an id or url that needs escapes, quoted (rare)
  std::unique_ptr<char[]> pad_;  // padded()'s copy
  size_t pad_cap_ = 0;
  Request request_;               // append_bodies' and append_file's, reused
  std::string where_;             // their error prefix, reused
  bool endpoint_listed_ = false;  // endpoint_ passed rules_.endpoints
  bool finished_ = false;
  InputRules rules_;
  IdIndex ids_;
  std::string endpoint_;
  std::string model_;
  std::vector<std::string> models_;  // distinct, at most kListedModels
  bool more_models_ = false;
  uint64_t first_model_request_ = 0;  // 0-based index of the first request naming a model
  // Per request, its line in the file it came from (0: not from a file).
  // Empty until a request comes from a file: obatch_add pays nothing.
  std::vector<uint64_t> lines_;
  // The files added, each with the index of its first request.
  struct FileSpan {
    uint64_t first;
    std::string path;
  };
  std::vector<FileSpan> files_;
  bool adding_file_ = false;  // append_file is running: files_.back() is its file
  uint64_t bytes_ = 0;
  uint64_t embedding_inputs_ = 0;
  // Split rules: the cut, and each request's part (empty without split).
  PartCutter cutter_;
  std::vector<uint32_t> part_of_;
  std::vector<std::string> part_paths_;
};

}  // namespace obatch
