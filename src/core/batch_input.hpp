// The batch being built: validated requests streamed to a JSONL file on disk,
// with the custom_id index and the running totals the limits are checked on.
#pragma once

#include <cstdio>
#include <string>

#include "core/id_index.hpp"
#include "core/input_rules.hpp"
#include "core/request.hpp"

namespace obatch {

class BatchInput {
 public:
  // `path`: the JSONL file to write (created, 0600). `id_prefix`: for
  // generated custom_ids.
  BatchInput(std::string path, std::string id_prefix);
  ~BatchInput();
  BatchInput(const BatchInput &) = delete;
  BatchInput &operator=(const BatchInput &) = delete;

  // Until rules are set only provider-free checks run; set them before the
  // first append (the provider may be chosen from the first request).
  void set_rules(InputRules rules) { rules_ = std::move(rules); }
  bool has_rules() const { return !rules_.provider.empty(); }

  // Checks `r` against the batch (duplicate id, endpoint, model, limits) and
  // writes it. `where` starts every error message ("request 3", "in.jsonl
  // line 3"). Nothing is written when it throws.
  void append(Request r, const std::string &where);

  // Adds every line of a JSONL file, all or nothing.
  void append_file(const std::string &path);

  // Flushes and closes the file; no append after it.
  void finish();

  const std::string &path() const { return path_; }
  const std::string &endpoint() const { return endpoint_; }
  const std::string &model() const { return model_; }
  uint64_t count() const { return ids_.size(); }
  uint64_t bytes() const { return bytes_; }
  const IdIndex &ids() const { return ids_; }
  // Hands the ids over (to the job that runs the batch); the input is empty
  // of them afterwards.
  IdIndex take_ids() { return std::move(ids_); }
  // The custom_id the next request gets when the caller gives none.
  std::string next_custom_id() const;

 private:
  struct Mark {
    uint64_t count, bytes, embedding_inputs;
    std::string endpoint, model;
  };
  Mark mark() const;
  void rollback(const Mark &m);
  void write(const std::string &data);

  std::string path_;
  std::string id_prefix_;
  FILE *file_ = nullptr;
  InputRules rules_;
  IdIndex ids_;
  std::string endpoint_;
  std::string model_;
  uint64_t first_model_request_ = 0;
  uint64_t bytes_ = 0;
  uint64_t embedding_inputs_ = 0;
};

}  // namespace obatch
