// The batch being built: validated requests streamed to a JSONL file on disk,
// with the custom_id index and the running totals the limits are checked on.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "core/id_index.hpp"
#include "core/input_rules.hpp"
#include "core/part_plan.hpp"
#include "core/request.hpp"

namespace obatch {

// The checks a line of a JSONL input file gets before its JSON is read: no
// byte order mark (line 1: UTF-8, or UTF-16 for a file in the wrong
// encoding), no CR LF, not blank. Returns false for a blank last line (a
// trailing newline: the file ends there); throws Error(EJSON) starting with
// `where` for the others.
bool check_jsonl_framing(const std::string &line, uint64_t lineno, bool last,
                         const std::string &where);

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
  void append(Request &r, const std::string &where, uint64_t line = 0);
  void append(Request &&r, const std::string &where, uint64_t line = 0) { append(r, where, line); }

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
  void write(const std::string &data);
  // "line 4", "other.jsonl line 4" or "request 4": where the request at
  // 0-based `index` came from. The file is named unless it is the one being
  // added now.
  std::string origin(uint64_t index) const;

  std::string path_;
  std::string id_prefix_;
  bool prefixed_ids_ = false;  // a caller's custom_id looked like "<prefix>-..."
  FILE *file_ = nullptr;       // null when writing nothing
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
  std::string line_;  // the line being appended (kept: its buffer is reused)
  // Split rules: the cut, and each request's part (empty without split).
  PartCutter cutter_;
  std::vector<uint32_t> part_of_;
  std::vector<std::string> part_paths_;
};

}  // namespace obatch
