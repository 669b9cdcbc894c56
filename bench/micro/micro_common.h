// Shared bits of the Google Benchmark binaries: public C API only.
#pragma once
#include <obatch/obatch.h>
#include <obatch/sys/provider.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "../drivers/bench_provider.h"

namespace bench {

// A scratch directory: $OBATCH_BENCH_TMP or $TMPDIR or /tmp.
inline std::string scratch_dir(const char *name) {
  const char *t = std::getenv("OBATCH_BENCH_TMP");
  if (!t || !*t) t = std::getenv("TMPDIR");
  std::string d = std::string(t && *t ? t : "/tmp") + "/" + name + "-" + std::to_string(getpid());
  std::string cmd = "mkdir -p '" + d + "'";
  if (std::system(cmd.c_str()) != 0) std::abort();
  return d;
}

inline void remove_dir(const std::string &d) {
  std::string cmd = "rm -rf '" + d + "'";
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", d.c_str());
}

// The "bench" provider (bench_provider.h), once per process.
inline void register_provider() {
  static bool done = false;
  if (done) return;
  if (bench_provider_register() != OBATCH_OK) std::abort();
  done = true;
}

// A deterministic ~`size`-byte chat completions body (as benchlib.chat_body).
inline std::string chat_body(size_t i, size_t size = 300) {
  static const char *words[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
                                "golf", "hotel", "india", "juliet", "kilo", "lima"};
  std::string head =
      "{\"model\":\"gpt-4o-mini\",\"max_tokens\":256,\"temperature\":0.2,\"messages\":["
      "{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"
      "{\"role\":\"user\",\"content\":\"Question " + std::to_string(i) + ": ";
  std::string tail = "\"}]}";
  std::string text;
  size_t k = i * 7919;
  while (head.size() + text.size() + tail.size() < size) {
    text += words[k % 12];
    text += ' ';
    k = (k * 1103515245 + 12345) & 0x7FFFFFFF;
  }
  text.resize(size > head.size() + tail.size() ? size - head.size() - tail.size() : 0);
  return head + text + tail;
}

}  // namespace bench
