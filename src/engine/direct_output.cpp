#include "engine/direct_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "core/result_line.hpp"
#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/files.hpp"

namespace obatch {

namespace {

constexpr size_t kWriteAt = 1u << 20;  // write the buffer out from 1 MB on

void fsync_dir(const std::string &path) {
  int fd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

}  // namespace

std::string partial_path(const std::string &final_path) { return final_path + ".partial"; }

DirectOutput::DirectOutput(std::string output_final, std::string error_final,
                           std::string output_partial, std::string error_partial) {
  out_.final_path = std::move(output_final);
  err_.final_path = std::move(error_final);
  out_.partial = std::move(output_partial);
  err_.partial = std::move(error_partial);
}

DirectOutput::~DirectOutput() {
  for (File *f : {&out_, &err_})
    if (f->fd >= 0) close(f->fd);
}

void DirectOutput::open(bool resume, const IdIndex &ids, std::vector<bool> *done, uint64_t *ok,
                        uint64_t *failed, const LineFn &kept_output) {
  open_file(&out_, resume, ids, done, ok, kept_output);
  open_file(&err_, resume, ids, done, failed, nullptr);
  fsync_dir(out_.partial);
  if (dir_of(err_.partial) != dir_of(out_.partial)) fsync_dir(err_.partial);
}

void DirectOutput::open_file(File *f, bool resume, const IdIndex &ids, std::vector<bool> *done,
                             uint64_t *count, const LineFn &on_kept) {
  ensure_dir(dir_of(f->partial));
  // A new job never takes what a file of that name holds: it may be another
  // input's (a run without a journal, killed).
  f->fd = ::open(f->partial.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | (resume ? 0 : O_TRUNC), 0666);
  if (f->fd < 0) throw Error(OBATCH_EIO, "cannot open " + f->partial + ": " + errno_text(errno));
  // Keep every complete result line up to the first that is not one.
  std::string buf, line;
  buf.resize(1u << 20);
  uint64_t kept = 0, at = 0, line_no = 0;
  bool stop = false;
  for (;;) {
    const ssize_t got = pread(f->fd, &buf[0], buf.size(), static_cast<off_t>(at));
    if (got < 0) throw Error(OBATCH_EIO, "cannot read " + f->partial + ": " + errno_text(errno));
    if (got == 0) break;
    at += static_cast<uint64_t>(got);
    size_t start = 0;
    for (size_t nl; !stop && (nl = buf.find('\n', start)) < static_cast<size_t>(got);
         start = nl + 1) {
      line.append(buf, start, nl - start);
      line_no++;
      uint64_t pos = IdIndex::npos;
      try {
        const std::string id =
            check_result_line(line, f->partial + " line " + std::to_string(line_no));
        pos = ids.find(id);
      } catch (const Error &) {
      }
      if (pos == IdIndex::npos || (*done)[pos]) {
        stop = true;
        break;
      }
      (*done)[pos] = true;
      (*count)++;
      if (on_kept) on_kept(line);
      kept += line.size() + 1;
      line.clear();
    }
    if (stop) break;
    line.append(buf, start, static_cast<size_t>(got) - start);
  }
  struct stat st;
  if (fstat(f->fd, &st) != 0)
    throw Error(OBATCH_EIO, "cannot read " + f->partial + ": " + errno_text(errno));
  if (static_cast<uint64_t>(st.st_size) > kept && ftruncate(f->fd, static_cast<off_t>(kept)) != 0)
    throw Error(OBATCH_EIO,
                "cannot cut " + f->partial + " to its complete lines: " + errno_text(errno));
  f->size = kept;
}

void DirectOutput::append(bool error, std::string_view line) {
  File &f = error ? err_ : out_;
  f.buf.append(line);
  f.buf.push_back('\n');
  if (f.buf.size() >= kWriteAt) write_out(&f);
}

void DirectOutput::write_out(File *f) {
  const char *p = f->buf.data();
  size_t left = f->buf.size();
  const uint64_t start = f->size;
  while (left) {
    const ssize_t w = pwrite(f->fd, p, left, static_cast<off_t>(f->size));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int err = w < 0 ? errno : ENOSPC;
      // No half-written line stays (open() would cut it anyway).
      f->size = start;
      if (ftruncate(f->fd, static_cast<off_t>(start)) != 0) {
      }
      throw Error(OBATCH_EIO, "cannot write " + f->partial + ": " + errno_text(err) +
                                  " (the results written so far are kept; run the same command "
                                  "again once there is room)");
    }
    p += w;
    left -= static_cast<size_t>(w);
    f->size += static_cast<uint64_t>(w);
  }
  f->buf.clear();
  f->dirty = true;
}

void DirectOutput::commit() {
  for (File *f : {&out_, &err_}) {
    if (f->fd < 0) continue;
    if (!f->buf.empty()) write_out(f);
    if (f->dirty && fdatasync(f->fd) != 0)
      throw Error(OBATCH_EIO, "cannot write " + f->partial + ": " + errno_text(errno));
    f->dirty = false;
  }
}

void DirectOutput::publish(std::string *output_path, std::string *error_path) {
  commit();
  for (File *f : {&out_, &err_}) {
    std::string *path = f == &out_ ? output_path : error_path;
    close(f->fd);
    f->fd = -1;
    if (f->size == 0) {
      unlink(f->partial.c_str());
      path->clear();
      continue;
    }
    if (rename(f->partial.c_str(), f->final_path.c_str()) != 0)
      throw Error(OBATCH_EIO, "cannot rename " + f->partial + " to " + f->final_path + ": " +
                                  errno_text(errno));
    fsync_dir(f->final_path);
    *path = f->final_path;
  }
}

}  // namespace obatch
