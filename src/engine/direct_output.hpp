// The output and error files of a direct job while it runs. Each finished
// request's line is appended to "<final>.partial"; commit() writes what is
// buffered and fsyncs both files (in groups, not per line); publish() renames
// them to their final names once every request has its result. A process
// killed at any point leaves partial files that open() takes up again: what
// they hold is never sent twice.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/id_index.hpp"

namespace obatch {

// "<final>.partial": where a direct job's file grows until it is complete.
std::string partial_path(const std::string &final_path);

class DirectOutput {
 public:
  // The final paths, and the partial files (partial_path() of the final
  // ones, or those of a job taken up again).
  DirectOutput(std::string output_final, std::string error_final, std::string output_partial,
               std::string error_partial);
  ~DirectOutput();  // closes the files (no commit: the owner commits first)
  DirectOutput(const DirectOutput &) = delete;
  DirectOutput &operator=(const DirectOutput &) = delete;

  // Opens (creates) both partial files. `resume`: marks done[i] for each
  // request of `ids` that has a line in them already (`ok` and `failed`
  // count them); else they are emptied (a new job). A
  // cut last line, a line that is not a result line, or one for an id not in
  // `ids` or seen before, was being written when the process died: the file
  // is cut there. `kept_output`, if set, sees each output line kept (the
  // results of an earlier run, e.g. to count their usage). Throws Error(EIO)
  // naming the file.
  using LineFn = std::function<void(std::string_view)>;
  void open(bool resume, const IdIndex &ids, std::vector<bool> *done, uint64_t *ok,
            uint64_t *failed, const LineFn &kept_output = nullptr);

  // Appends one line (no newline) to the output or the error file.
  void append(bool error, std::string_view line);
  uint64_t buffered() const { return out_.buf.size() + err_.buf.size(); }
  // Writes what is buffered and fsyncs both files. Throws Error(EIO).
  void commit();
  // commit(), then renames the partial files to their final names (an empty
  // one is removed instead, and its path returned as "").
  void publish(std::string *output_path, std::string *error_path);

  const std::string &output_partial() const { return out_.partial; }
  const std::string &error_partial() const { return err_.partial; }

 private:
  struct File {
    std::string final_path, partial;
    int fd = -1;
    std::string buf;
    uint64_t size = 0;
    bool dirty = false;
  };
  void open_file(File *f, bool resume, const IdIndex &ids, std::vector<bool> *done,
                 uint64_t *count, const LineFn &on_kept);
  void write_out(File *f);
  File out_, err_;
};

}  // namespace obatch
